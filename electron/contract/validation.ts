// Validation of every inbound RPC call: a birpc resolver that only lets through methods that
// have a schema, and parses their arguments before the handler sees them.

import type { z } from "zod";
import { asErrorParams, QuantaError, type ErrorParams } from "./errors.js";

type AnyHandler = (...args: never[]) => unknown;

export type ArgumentSchemas = Readonly<Record<string, z.ZodType<readonly unknown[]>>>;

/** Describes a zod failure in one sentence a person can act on. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path.filter((part) => typeof part !== "number" || issue.path.length > 1).join(".");
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/**
 * A limit a person can run into says so: the first issue that carries a `reason` (a refine's
 * params) crosses with its figures, for the renderer to word (error.invalid_request.<reason>).
 */
function reasonOf(error: z.ZodError): ErrorParams | undefined {
  for (const issue of error.issues) {
    if (issue.code !== "custom") continue;
    const params = asErrorParams(issue.params);
    if (params && typeof params.reason === "string") return params;
  }
  return undefined;
}

/**
 * A birpc `resolver`: unknown methods are refused, arguments are validated against the
 * method's schema, and the handler is called with the parsed (stripped, typed) arguments.
 */
export function validatingResolver(schemas: ArgumentSchemas) {
  return (name: string, resolved: ((...args: unknown[]) => unknown) | undefined) => {
    const schema = Object.hasOwn(schemas, name) ? schemas[name] : undefined;
    if (!schema || typeof resolved !== "function") {
      return () => {
        throw new QuantaError("invalid_request", `There is no method called "${name.slice(0, 64)}".`);
      };
    }
    return (...args: unknown[]) => {
      const parsed = schema.safeParse(args);
      if (!parsed.success) {
        throw new QuantaError("invalid_request", `Invalid call to ${name}: ${describeIssues(parsed.error)}.`, reasonOf(parsed.error));
      }
      return (resolved as AnyHandler)(...(parsed.data as never[]));
    };
  };
}
