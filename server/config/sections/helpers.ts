import { type TLiteral, type TUnion, Type } from "@sinclair/typebox";

/** Marks a key whose value `--print-config` masks. */
export const secret = { secret: true } as const;

/** A string key limited to the given values. */
export const literalUnion = <T extends readonly string[]>(values: T, options: object) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
