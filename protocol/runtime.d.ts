// Web-platform globals that protocol/ and sdk/ use, declared here because they are checked
// without Bun's or the DOM's type libraries (runtime-neutral). Bun and browsers both have
// them. WebCrypto is typed locally where it is used (protocol/crypto/native.ts).
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
