// Types of decimal.js (a browser module, not compiled) for the tests that import it.
export function isAmount(text: string): boolean;
export function toUnits(text: string): bigint;
export function fromUnits(units: bigint): string;
export function add(...values: string[]): string;
export function sub(a: string, b: string): string;
export function cmp(a: string, b: string): -1 | 0 | 1;
export function percent(part: string, whole: string, places?: number): string;
export function format(text: string): string;
export function compact(text: string): string;
export function typed(text: string): string;
