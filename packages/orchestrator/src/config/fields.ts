import { type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

/**
 * The field types of the config file and of `POST /v1/engines`, as TypeBox schemas whose
 * keywords `checkConfig` turns into messages (`must be an integer from 1 to 100`).
 */
export const NonEmpty = (opts: { maxLength?: number; description?: string } = {}) =>
  Type.String({ minLength: 1, ...opts });

export const Int = (minimum: number, maximum: number, description?: string) =>
  Type.Integer({ minimum, maximum, ...(description ? { description } : {}) });

export const Bool = (description?: string) => Type.Boolean(description ? { description } : {});

/** `500ms`, `30s`, `5m`, `1h` or a number of seconds; the unit and range are checked after the schema. */
export const Duration = () =>
  Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })], {
    description: 'a duration such as 500ms, 30s, 5m, 1h or a number of seconds',
  });

export const OneOf = <T extends string>(values: readonly T[], description?: string): TUnion<TLiteral<T>[]> =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const StringList = (description?: string) =>
  Type.Array(Type.String({ minLength: 1 }), description ? { description } : {});

export const StringMap = (description?: string) =>
  Type.Record(Type.String(), Type.String(), description ? { description } : {});

/** A mapping that names every key it allows: anything else is an unknown key. */
export const Section = <T extends Record<string, TSchema>>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });
