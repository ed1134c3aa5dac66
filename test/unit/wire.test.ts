import { describe, expect, it } from "vitest";
import { z } from "zod";
import { QuantaError, toWireError } from "../../electron/contract/errors.js";
import { validatingResolver } from "../../electron/contract/validation.js";
import { checkRpcEnvelope, decodeRpcText, encodeRpcText } from "../../electron/contract/wire.js";

describe("errors on the wire", () => {
  it("cross as code plus message and come back as QuantaError", () => {
    const sent = encodeRpcText({ t: "s", i: "1", e: new QuantaError("busy", "A reply is running.") });
    expect(JSON.parse(sent)).toEqual({ t: "s", i: "1", e: { code: "busy", message: "A reply is running." } });
    const received = decodeRpcText(sent) as { e: unknown };
    expect(received.e).toBeInstanceOf(QuantaError);
    expect(received.e).toMatchObject({ code: "busy", message: "A reply is running." });
  });

  it("carry their parameters both ways, and drop parameters that are not flat strings and numbers", () => {
    const params = { reason: "gpu_layers_range", max: 6, asked: 999 };
    const sent = encodeRpcText({ t: "s", i: "1", e: new QuantaError("invalid_request", "Too many layers.", params) });
    expect(JSON.parse(sent)).toEqual({ t: "s", i: "1", e: { code: "invalid_request", message: "Too many layers.", params } });
    const received = decodeRpcText(sent) as { e: QuantaError };
    expect(received.e).toBeInstanceOf(QuantaError);
    expect(received.e.params).toEqual(params);
    // Two arguments still make an error without parameters.
    expect(new QuantaError("busy", "m").toWire()).toEqual({ code: "busy", message: "m" });
    const nested = decodeRpcText(JSON.stringify({ t: "s", i: "3", e: { code: "busy", message: "m", params: { deep: { x: 1 } } } })) as {
      e: QuantaError;
    };
    expect(nested.e.params).toBeUndefined();
    expect(nested.e.code).toBe("busy");
  });

  it("turns foreign errors into internal errors that keep their message", () => {
    expect(toWireError(new TypeError("x is undefined"))).toEqual({ code: "internal", message: "x is undefined" });
    expect(toWireError({ code: "not_a_code", message: "m" })).toEqual({ code: "internal", message: "m" });
    expect(toWireError(undefined).code).toBe("internal");
    const decoded = decodeRpcText(JSON.stringify({ t: "s", i: "2", e: { weird: true } })) as { e: QuantaError };
    expect(decoded.e.code).toBe("internal");
  });

  it("leaves ordinary messages alone", () => {
    const message = { t: "q", i: "3", m: "listModels", a: [] };
    expect(decodeRpcText(encodeRpcText(message))).toEqual(message);
    expect(() => decodeRpcText(42)).toThrow();
  });
});

describe("validating resolver", () => {
  const resolve = validatingResolver({ greet: z.tuple([z.object({ name: z.string().min(1) }).strict()]) });
  const greet = (request: { name: string }) => `hello ${request.name}`;

  it("passes parsed arguments to the handler", () => {
    expect(resolve("greet", greet as (...args: unknown[]) => unknown)({ name: "Ada" })).toBe("hello Ada");
  });

  it("refuses bad arguments with invalid_request and a sentence saying what is wrong", () => {
    const handler = resolve("greet", greet as (...args: unknown[]) => unknown);
    for (const args of [[], [{ name: "" }], [{ name: "Ada", extra: 1 }], [{ name: 7 }], [{ name: "Ada" }, "surplus"]]) {
      try {
        handler(...args);
        throw new Error(`accepted ${JSON.stringify(args)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(QuantaError);
        expect((error as QuantaError).code).toBe("invalid_request");
        expect((error as QuantaError).message).toMatch(/^Invalid call to greet: /);
      }
    }
  });

  it("refuses methods without a schema, including prototype names", () => {
    for (const name of ["missing", "__proto__", "constructor", "toString"]) {
      expect(() => resolve(name, undefined)()).toThrow(/no method/);
    }
  });
});

describe("the envelope of an inbound RPC message", () => {
  it("keeps well-formed requests and answers, with only birpc's own fields", () => {
    expect(checkRpcEnvelope({ t: "q", i: "abc", m: "listModels", a: [], extra: 1 })).toEqual({
      ok: true,
      message: { t: "q", i: "abc", m: "listModels", a: [] },
    });
    expect(checkRpcEnvelope({ t: "q", m: "event", a: [{}] })).toEqual({ ok: true, message: { t: "q", m: "event", a: [{}] } });
    expect(checkRpcEnvelope({ t: "s", i: "abc", r: 1 })).toEqual({ ok: true, message: { t: "s", i: "abc", r: 1 } });
  });

  it("refuses what has no usable id without an answer id, so the channel is closed", () => {
    for (const message of [
      null,
      42,
      "q",
      [],
      {},
      { t: "x", i: "1" },
      { t: "s" },
      { t: "q", i: 7, m: "a", a: [] },
      { t: "q", i: "x".repeat(65), m: "a", a: [] },
      { t: "q", i: [[[]]], m: "a", a: [] },
    ]) {
      expect(checkRpcEnvelope(message)).toMatchObject({ ok: false, answerId: null });
    }
  });

  it("refuses a bad method or argument list with the id to answer", () => {
    for (const message of [
      { t: "q", i: "1", m: "getAppInfo", a: { length: 120_000_000 } },
      { t: "q", i: "1", m: "getAppInfo", a: "x" },
      { t: "q", i: "1", m: "getAppInfo", a: new Array(9).fill(0) },
      { t: "q", i: "1", m: "__proto__", a: [] },
      { t: "q", i: "1", m: "$call", a: [] },
      { t: "q", i: "1", m: "x".repeat(65), a: [] },
      { t: "q", i: "1", m: 5, a: [] },
      { t: "q", i: "1", m: "getAppInfo", a: [], o: "yes" },
    ]) {
      expect(checkRpcEnvelope(message)).toMatchObject({ ok: false, answerId: "1" });
    }
  });
});
