// A JSON value as JSON.parse returns it and JSON.stringify takes it: the one type every API and
// record module uses.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
