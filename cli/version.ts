import pkg from "../package.json" with { type: "json" };

/** The Parley release this binary was built from. */
export const VERSION: string = pkg.version;
