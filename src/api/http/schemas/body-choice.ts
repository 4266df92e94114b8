import type { FastifySchemaCompiler } from 'fastify';
import type { FastifyRouteSchemaDef } from 'fastify/types/schema.js';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

/**
 * A route whose JSON body is one of several shapes (a job body, or a
 * template reference): documented as their union, validated as the one shape
 * its `key` chooses, so a client's errors name that shape's fields instead of
 * a union's. A multipart body (null here) is read by the route itself.
 */
export function bodyChoice(key: string, whenPresent: z.ZodType, otherwise: z.ZodType): FastifySchemaCompiler<unknown> {
  return (route) => {
    if (route.httpPart !== 'body') return validatorCompiler(route as FastifyRouteSchemaDef<z.ZodType>);
    const present = validatorCompiler({ ...route, schema: whenPresent });
    const absent = validatorCompiler({ ...route, schema: otherwise });
    return (data) => {
      if (data == null) return { value: data };
      return typeof data === 'object' && Object.hasOwn(data, key) ? present(data) : absent(data);
    };
  };
}
