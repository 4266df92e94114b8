import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

interface MediaType {
  schema?: Record<string, unknown>;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseObject>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

export interface CheckedResponse {
  status: number;
  contentType: string | null;
  /** the parsed JSON body, when the media type is JSON */
  body: unknown;
}

/**
 * The published document (openapi.yaml) as a client generated from it reads
 * it: a reply must have a status the operation declares (or its `4XX` range),
 * a media type declared for that status, and a JSON body that the declared
 * schema (JSON Schema 2020-12, as OpenAPI 3.1 has it) accepts.
 */
export class Contract {
  private readonly operations = new Map<string, { path: string; method: string; operation: Operation }>();
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  /** operationId → the statuses a check has seen */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly document: Document = parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as Document) {
    addFormats.default(this.ajv);
    this.ajv.addSchema({ $id: 'openapi.yaml', components: document.components });
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (METHODS.has(method)) this.operations.set(operation.operationId, { path, method, operation });
      }
    }
  }

  get operationIds(): string[] {
    return [...this.operations.keys()];
  }

  /** Reads the reply and throws, with what is wrong, unless the document declares it exactly so. */
  async check(operationId: string, response: Response): Promise<CheckedResponse> {
    const found = this.operations.get(operationId);
    if (!found) throw new Error(`openapi.yaml has no operation ${operationId}`);
    const where = `${operationId} (${found.method.toUpperCase()} ${found.path}) ${response.status}`;
    const declared = found.operation.responses[String(response.status)] ?? found.operation.responses[`${String(response.status)[0]}XX`];
    if (!declared) throw new Error(`${where}: status not declared (declared: ${Object.keys(found.operation.responses).join(', ')})`);
    this.seen.set(operationId, (this.seen.get(operationId) ?? new Set()).add(response.status));

    const text = await response.text();
    const contentType = response.headers.get('content-type');
    if (!declared.content) {
      if (text !== '') throw new Error(`${where}: declared without a body, got ${contentType}: ${text.slice(0, 200)}`);
      return { status: response.status, contentType, body: undefined };
    }
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
    const entry = Object.entries(declared.content).find(([type]) => type.split(';')[0]?.trim().toLowerCase() === mediaType);
    if (!entry) throw new Error(`${where}: served ${contentType}, declared ${Object.keys(declared.content).join(' or ')}`);
    if (!/[/+]json$/.test(mediaType ?? '')) return { status: response.status, contentType, body: undefined };

    const body: unknown = JSON.parse(text);
    const key = `${operationId} ${response.status} ${entry[0]}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(withDocumentRefs(entry[1].schema ?? {}));
      this.validators.set(key, validate);
    }
    if (!validate(body)) throw new Error(`${where}: body does not match the schema: ${this.ajv.errorsText(validate.errors)}\n${text.slice(0, 1000)}`);
    return { status: response.status, contentType, body };
  }
}

/** `#/components/...` in an operation's schema points into the document, which Ajv holds as `openapi.yaml`. */
function withDocumentRefs(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema), (key, value) => (key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `openapi.yaml${value}` : value));
}
