export interface ExampleInput {
    /** e.g. http://127.0.0.1:8150/v1 */
    baseUrl: string;
    /** null when the server asks for no key (clients still need a placeholder). */
    apiKey: string | null;
    model: string;
}
/** A single-quoted shell word: safe whatever the text holds. */
export declare function shellQuote(text: string): string;
export declare function curlExample({ baseUrl, apiKey, model }: ExampleInput): string;
export declare function pythonExample({ baseUrl, apiKey, model }: ExampleInput): string;
export declare function javascriptExample({ baseUrl, apiKey, model }: ExampleInput): string;
