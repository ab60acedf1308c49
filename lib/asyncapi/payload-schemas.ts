import type { JsonSchema, PayloadType } from '../handlers/interfaces/handler-documentation.interface.js';
import type { BodyParam } from '../handlers/interfaces/route-handler.interface.js';
import { withCode } from '../protocol/errors.js';
import { importOptional } from '../utils/optional-package.js';

/** The data of a frame as the document describes it. */
export interface Payload {
  readonly schema: JsonSchema;
  readonly contentType: string;
}

type Constructor = abstract new (...args: never[]) => unknown;
type ClassValidatorJsonSchema = typeof import('class-validator-jsonschema');
type ClassTransformerStorage = NonNullable<Parameters<ClassValidatorJsonSchema['validationMetadatasToSchemas']>[0]>['classTransformerMetadataStorage'];

/** Where the schemas of payload classes are, by class name. */
const SCHEMAS = '#/components/schemas/';

const TEXT: JsonSchema = { type: 'string' };
const BYTES: JsonSchema = { type: 'string', format: 'binary' };

/** Types that describe themselves: those of `design:paramtypes` and those a declaration may name. */
const BUILT_IN: ReadonlyMap<unknown, JsonSchema> = new Map<unknown, JsonSchema>([
  [String, TEXT],
  [Number, { type: 'number' }],
  [Boolean, { type: 'boolean' }],
  [Array, { type: 'array' }],
  [Object, {}],
  [Uint8Array, BYTES],
  [Buffer, BYTES],
]);

/** `@MessageBody()` types that take the data as it came (the explorer's rule): text, or bytes from a binary frame. */
const AS_IT_CAME: ReadonlySet<unknown> = new Set([undefined, String, Object]);

/** Text is `text/plain`, bytes are `application/octet-stream`, anything else is JSON. */
export function payloadOf(schema: JsonSchema): Payload {
  if (schema.type !== 'string') {
    return { schema, contentType: 'application/json' };
  }
  return { schema, contentType: schema.format === 'binary' ? 'application/octet-stream' : 'text/plain' };
}

/** A declaration that cannot be described, found while building the document. */
export function invalidDeclaration(message: string): Error {
  return withCode(new Error(message), 'EASY_WS_INVALID_DECLARATION');
}

/**
 * Turns payload types into JSON Schemas. A class becomes a reference to its schema,
 * which `components()` makes from its class-validator decorators once every payload
 * is known, with `class-validator-jsonschema`, loaded only then.
 */
export class PayloadSchemas {
  private readonly classes = new Map<string, Constructor>();

  /** The data of a frame the server sends, as a declaration gives it; `where` names the declaration in errors. */
  declared(type: PayloadType | undefined, where: string): Payload {
    if (type === undefined) {
      return payloadOf({ description: 'Not described by the application.' });
    }
    if (typeof type === 'function') {
      return payloadOf(this.schemaOf(type, where));
    }
    if (typeof type !== 'object' || type === null || Array.isArray(type)) {
      throw invalidDeclaration(`${where}: a payload is String, Number, Boolean, Array, Uint8Array, a class or a JSON Schema object`);
    }
    return payloadOf(type);
  }

  /** The data a command handler takes, from its `@MessageBody()` parameters. */
  body(params: readonly BodyParam[], where: string): Payload {
    const whole = params.find((param) => param.field === undefined);
    if (whole) {
      return payloadOf(AS_IT_CAME.has(whole.type) ? TEXT : this.schemaOf(whole.type as Constructor, where));
    }
    if (params.length === 0) {
      return payloadOf({ ...TEXT, description: 'Any text: the handler does not read the data.' });
    }
    const properties = Object.fromEntries(params.map(({ field, type }) => [field, type === undefined ? {} : this.schemaOf(type as Constructor, where)]));
    return payloadOf({ type: 'object', properties });
  }

  /** The schemas of every class named so far and of the classes they refer to, by class name. */
  async components(): Promise<Record<string, JsonSchema>> {
    if (this.classes.size === 0) {
      return {};
    }
    const names = [...this.classes.keys()];
    const { validationMetadatasToSchemas } = await importOptional<ClassValidatorJsonSchema>(
      'class-validator-jsonschema',
      'the AsyncAPI document',
      `describing ${names.join(', ')} from their class-validator decorators`,
    );
    const classTransformerMetadataStorage = await classTransformerStorage();
    const all = validationMetadatasToSchemas({ refPointerPrefix: SCHEMAS, ...(classTransformerMetadataStorage && { classTransformerMetadataStorage }) });
    const found: Record<string, JsonSchema> = {};
    const visit = (name: string): void => {
      if (name in found) {
        return;
      }
      const schema = (all[name] as JsonSchema | undefined) ?? { type: 'object', description: `${name} has no class-validator decorators, so its fields are not described.` };
      found[name] = schema;
      references(schema).forEach(visit);
    };
    names.forEach(visit);
    return Object.fromEntries(Object.entries(found).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  private schemaOf(type: Constructor, where: string): JsonSchema {
    const builtIn = BUILT_IN.get(type);
    if (builtIn) {
      return builtIn;
    }
    const known = this.classes.get(type.name);
    if (known !== undefined && known !== type) {
      throw invalidDeclaration(`${where}: two payload classes are named ${type.name}; the document names schemas by class, so rename one`);
    }
    this.classes.set(type.name, type);
    return { $ref: `${SCHEMAS}${type.name}` };
  }
}

/** The class names a schema refers to. */
function references(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null) {
    return [];
  }
  return Object.entries(schema).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMAS) ? [value.slice(SCHEMAS.length)] : references(value),
  );
}

/**
 * class-transformer's storage, where `@Type(() => Nested)` is recorded, so that nested
 * classes are described by their own schemas; without class-transformer, the schema
 * of a nested class comes from its decorator metadata alone.
 */
async function classTransformerStorage(): Promise<ClassTransformerStorage> {
  try {
    // Its CommonJS build is the one a Node application loads, so this is the storage its decorators wrote to.
    const { defaultMetadataStorage } = (await import('class-transformer/cjs/storage.js' as string)) as { defaultMetadataStorage?: ClassTransformerStorage };
    return defaultMetadataStorage;
  } catch {
    return undefined;
  }
}
