/**
 * "Acme Widgets, Inc." → "acme-widgets-inc"; a display aid only, never an identifier in SQL
 * and not unique (uniqueness is the name key's job). NFKD first, so the full-width "Ａｃｍｅ"
 * slugs like "Acme" and NFC and NFD "Café" both give "cafe"; every combining mark is dropped,
 * and case is folded fully (ß, ẞ → ss).
 */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .toUpperCase()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
  return slug || 'organization';
}
