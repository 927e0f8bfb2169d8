import { createOrgmsClient, type OrgmsClient } from '@orgms/client';
import { assertContract } from './contract';

/**
 * The typed client (@orgms/client) as a user would build it, plus the contract check of
 * support/contract.ts on every answer it receives over the network.
 */
export function contractCheckedClient(baseUrl: string, token?: string): OrgmsClient {
  const client = createOrgmsClient({ baseUrl, token });
  client.use({
    async onResponse({ request, response }) {
      const text = await response.clone().text();
      const isJson = /[/+]json\b/.test(response.headers.get('content-type') ?? '');
      assertContract({
        method: request.method,
        url: new URL(request.url).pathname,
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: isJson && text ? JSON.parse(text) : undefined,
        text,
      });
      return response;
    },
  });
  return client;
}
