/**
 * GraphQL types of the model's field types, each carrying values exactly as REST writes them: ids as
 * ID, integers as Int, bigint and decimal as digit strings (no precision lost), dates and times as
 * ISO 8601 text, json as any JSON value. The custom scalars pass values through: what an input must
 * look like is checked by the core (the body validators and the filter parser), so GraphQL and REST
 * refuse the same values with the same messages.
 */
import {
  GraphQLBoolean,
  type GraphQLEnumType,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLScalarType,
  GraphQLString,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';
import type { ColumnField } from '../model/ir.js';

/** A leaf type a field can have: a scalar or an enum. */
export type ScalarLike = GraphQLScalarType | GraphQLEnumType;

/** Dates from a driver that parses them become the ISO text REST writes; everything else is already in its API form. */
const passThrough = (value: unknown): unknown => (value instanceof Date ? value.toISOString() : value);

function passThroughScalar(name: string, description: string): GraphQLScalarType {
  return new GraphQLScalarType({
    name,
    description,
    serialize: passThrough,
    parseValue: (value) => value,
    parseLiteral: (node: ValueNode, variables) => valueFromASTUntyped(node, variables),
  });
}

export const BigIntScalar = passThroughScalar(
  'BigInt',
  'A 64-bit integer. Read as a string of digits (no precision lost); written as a string of digits or an integer.',
);
export const DecimalScalar = passThroughScalar('Decimal', 'An exact decimal number. Read as a string; written as a string or a number.');
export const DateScalar = passThroughScalar('Date', 'A calendar date, YYYY-MM-DD.');
export const DateTimeScalar = passThroughScalar('DateTime', 'A date and time in ISO 8601, e.g. 2024-05-01T12:00:00.000Z.');
export const UUIDScalar = passThroughScalar('UUID', 'A UUID in its text form.');
export const JSONScalar = passThroughScalar('JSON', 'Any JSON value.');

/**
 * The GraphQL type of a field's values, before nullability. `enumOf` gives the enum type of an enum
 * field (or undefined when its values are not GraphQL names: the field is then a String).
 */
export function scalarOf(field: ColumnField, enumOf: (field: ColumnField) => ScalarLike | undefined): ScalarLike {
  if (field.role === 'id' || field.role === 'foreignKey') return GraphQLID;
  switch (field.type) {
    case 'string':
    case 'text':
      return GraphQLString;
    case 'integer':
      return GraphQLInt;
    case 'float':
      return GraphQLFloat;
    case 'boolean':
      return GraphQLBoolean;
    case 'bigint':
      return BigIntScalar;
    case 'decimal':
      return DecimalScalar;
    case 'date':
      return DateScalar;
    case 'datetime':
      return DateTimeScalar;
    case 'uuid':
      return UUIDScalar;
    case 'json':
      return JSONScalar;
    case 'enum':
      return enumOf(field) ?? GraphQLString;
  }
}
