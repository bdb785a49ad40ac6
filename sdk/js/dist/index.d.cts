// Generated from src/ by scripts/build-cjs.js: edit src/ and run `npm run build`.
/** Gatekeeper accepts a timestamp this many seconds either side of its own clock. */
export declare const MAX_SKEW_SECONDS: 300;

/** Bytes to sign; a string is signed as UTF-8. */
export type SignableBody = string | ArrayBuffer | ArrayBufferView | Blob | URLSearchParams | null | undefined;

export interface HmacCredentials {
  /** The client's id (a UUID), as Gatekeeper shows it. */
  clientId: string;
  /** The client's HMAC secret; a string is used as UTF-8. */
  secret: string | ArrayBuffer | ArrayBufferView;
}

export interface ApiKeyCredentials {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
}

export interface SignRequestOptions extends HmacCredentials {
  /** Upper-cased before signing, as HTTP clients send it. */
  method: string;
  /** The URL as fetch sends it (a path alone is resolved as fetch would). */
  url?: string | URL;
  /** Instead of `url`: the path and query exactly as your HTTP client writes them. */
  target?: string;
  body?: SignableBody;
  /** Unix seconds; the current time unless given (give it only to reproduce a signature). */
  timestamp?: number;
  /** A fresh random nonce unless given; never send one twice. */
  nonce?: string;
  /** A Web Crypto implementation; `globalThis.crypto` unless given. */
  crypto?: Crypto;
}

export interface GatekeeperFetchOptions {
  /** The fetch to wrap; `globalThis.fetch` unless given. */
  fetch?: (input: Request) => Promise<Response>;
  crypto?: Crypto;
}

/** The Authorization header for one request, signed with the current time and a fresh nonce. */
export declare function signRequest(options: SignRequestOptions): Promise<{ Authorization: string }>;

/** The exact bytes a signature covers. */
export declare function stringToSign(
  method: string,
  target: string,
  timestamp: number,
  nonce: string,
  body: Uint8Array,
): Uint8Array;

/** 128 random bits in hex. */
export declare function newNonce(crypto?: Crypto): string;

/** A fetch that sends an API key, or signs every call (anew on every call, retries included). */
export declare function gatekeeperFetch(
  credentials: HmacCredentials | ApiKeyCredentials,
  options?: GatekeeperFetchOptions,
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
