/** Server-Sent Events in tests: frames of a text/event-stream body, and a supertest parser that collects one. */

export interface SseFrame {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Parses a text/event-stream body into frames (comments and `retry:` lines skipped). */
export function parseSse(body: string): SseFrame[] {
  return body
    .split('\n\n')
    .map((block) => {
      const frame: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const match = /^(id|event|data): (.*)$/.exec(line);
        if (match) frame[match[1]] = match[2];
      }
      return frame;
    })
    .filter((f) => f.data)
    .map((f) => ({ id: f.id, event: f.event, data: JSON.parse(f.data) }));
}

/** A supertest parser that collects a streamed body as text until the server ends it. */
export function collectText(res: unknown, done: (error: Error | null, body: string) => void): void {
  const stream = res as NodeJS.ReadableStream; // on Node, superagent hands the raw IncomingMessage
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
  });
  stream.on('end', () => done(null, text));
}
