type Document = ReturnType<typeof import('fastify-type-provider-zod').jsonSchemaTransformObject>;

const SCHEMA_REF = '#/components/schemas/';

function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF)) found.add(child.slice(SCHEMA_REF.length));
      else refsIn(child, found);
    }
  }
  return found;
}

/**
 * Every zod schema with an id becomes two components (`X` as the server
 * sends it, `XInput` as it accepts it), whether a route uses that direction
 * or not: only the schemas the paths reach, directly or through other
 * schemas, are kept.
 */
export function withoutUnusedSchemas(document: Document): Document {
  const { paths, components } = document as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const schemas = components?.schemas ?? {};
  const used = refsIn(paths, new Set());
  for (const pending = [...used]; pending.length > 0; ) {
    for (const name of refsIn(schemas[pending.pop() as string], new Set())) {
      if (used.has(name)) continue;
      used.add(name);
      pending.push(name);
    }
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...document, components: { ...components, schemas: kept } } as Document;
}
