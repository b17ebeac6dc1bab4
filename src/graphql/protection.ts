/**
 * Everything /graphql refuses before a document runs, built once at start-up from the settings:
 * the bounds of src/graphql/limits.ts and the trusted documents of src/graphql/trusted-documents.ts.
 * The endpoint takes its three hooks into graphql-http (request parsing, document parsing,
 * validation rules) from here.
 */
import { parse, type ValidationRule } from 'graphql';
import type { Settings } from '../config/settings.js';
import { StartupError } from '../config/startup-error.js';
import type { Variables } from './cost.js';
import { type GraphqlLimits, graphqlLimitsFrom, limitRules } from './limits.js';
import { TrustedDocuments } from './trusted-documents.js';
import { type TrustedRequestParser, trustedRequestParser } from './trusted-request.js';

export type GraphqlProtectionSettings = Pick<
  Settings,
  | 'graphqlMaxDepth'
  | 'graphqlMaxCost'
  | 'graphqlMaxAliases'
  | 'graphqlMaxOperations'
  | 'graphqlIntrospection'
  | 'graphqlTrustedDocuments'
  | 'graphqlTrustedOnly'
>;

export interface GraphqlProtection {
  readonly limits: GraphqlLimits;
  /** KILN_GRAPHQL_TRUSTED_ONLY: only the documents of the manifest run. */
  readonly trustedOnly: boolean;
  /** Reads `documentId` (and Apollo's hash) into the document it names, and refuses what KILN_GRAPHQL_TRUSTED_ONLY does not trust. */
  readonly parseRequestParams: TrustedRequestParser;
  /** Under KILN_GRAPHQL_TRUSTED_ONLY, whether a document's text is refused (for transports that send the text: WebSocket). */
  untrusted(text: string): boolean;
  /** graphql-js's parse, except that a trusted document comes parsed from start-up. */
  readonly parse: typeof parse;
  /** The rules of one request: they depend on its variables and the operation it runs. */
  rules(request: { readonly variableValues?: Variables; readonly operationName?: string | null }): ValidationRule[];
}

/** A StartupError when the manifest cannot be used or TRUSTED_ONLY has no manifest to trust. */
export function graphqlProtection(settings: GraphqlProtectionSettings, dev: boolean, env: NodeJS.ProcessEnv = process.env): GraphqlProtection {
  if (settings.graphqlTrustedOnly && !settings.graphqlTrustedDocuments) {
    throw new StartupError(
      'KILN_GRAPHQL_TRUSTED_ONLY is true but KILN_GRAPHQL_TRUSTED_DOCUMENTS is not set: name the manifest of the documents to run, or set KILN_GRAPHQL_TRUSTED_ONLY=false',
    );
  }
  const trusted = settings.graphqlTrustedDocuments ? TrustedDocuments.load(settings.graphqlTrustedDocuments) : undefined;
  const limits = graphqlLimitsFrom(settings, dev, env);
  return {
    limits,
    trustedOnly: settings.graphqlTrustedOnly,
    parseRequestParams: trustedRequestParser(trusted, settings.graphqlTrustedOnly),
    untrusted: (text) => settings.graphqlTrustedOnly && !trusted?.trusts(text),
    parse: trusted ? (source, options) => (typeof source === 'string' && trusted.parsed(source)) || parse(source, options) : parse,
    rules: (request) => limitRules(limits, { variables: request.variableValues, operationName: request.operationName }),
  };
}
