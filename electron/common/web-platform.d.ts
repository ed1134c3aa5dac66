// The Web platform globals common code may use: those Node and browsers both have. The common
// project compiles with no runtime's types (no @types/node, no DOM), so anything else is an error.

declare class URL {
  constructor(url: string | URL, base?: string | URL);
  readonly href: string;
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
  readonly origin: string;
  readonly username: string;
  readonly password: string;
  toString(): string;
}

declare var crypto: { randomUUID(): string };
