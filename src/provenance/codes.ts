// Short codes a private message carries: one-time codes, PINs, verification and reset
// codes ("Your verification code is 482913", "K7Q2ZP is your sign-in code"). Too short for
// the fingerprints and no URL, address or long number, so the value index would not see
// them leave in an egress argument (a URL's query or path, a message body). A page that is
// private contributes the codes it states next to a word that says what they are; an
// argument is searched for any token of that shape. Ordinary numbers and words do not
// taint: only a token a private page called a code does.
// Input distrusted: page text and argument values.

/** Words that say the token beside them is a code (one-time, verification, PIN, ...). */
const KEYWORD = `(?:one[- ]time (?:code|pass(?:code|word)?|pin)|(?:verification|security|login|sign[- ]?in|confirmation|access|auth(?:entication)?|reset|2fa|mfa|otp) (?:code|pin|token)|passcode|otp|pin|code)`;
/** A code: 4-8 digits, or 6-10 letters and digits with at least one of each. */
const TOKEN = String.raw`(\d{4,8}|(?=[A-Za-z0-9]{0,9}\d)(?=[A-Za-z0-9]{0,9}[A-Za-z])[A-Za-z0-9]{6,10})`;
// Every repetition is bounded (the text is untrusted; whitespace is collapsed first).
const AFTER_KEYWORD = new RegExp(
  String.raw`\b${KEYWORD}\b(?: (?:is|was|will be|reads))? ?[:=#-]? ?["'\`*(]{0,2}${TOKEN}(?![\w-])`,
  'gi',
);
const BEFORE_KEYWORD = new RegExp(
  String.raw`(?<![\w-])${TOKEN}["'\`*)]{0,2} (?:is|as) (?:your|the) (?:[\w-]{1,32} ){0,2}${KEYWORD}\b`,
  'gi',
);
/** Codes that are no secret: where a thing is, what went wrong, what a thing costs. */
const NOT_SECRET =
  /\b(?:postal|zip|post|area|country|dialing|dialling|source|status|error|exit|return|promo|promotional|discount|coupon|voucher|referral|tracking|product|item|style|color|colour|course|reference|booking|qr|bar|html|css|sort|swift|bic|iata|airport)\s*$/i;
/** A token of a code's shape in an argument. */
const CANDIDATE =
  /(?<![A-Za-z0-9])(?:\d{4,8}|(?=[A-Za-z0-9]{0,9}\d)(?=[A-Za-z0-9]{0,9}[A-Za-z])[A-Za-z0-9]{6,10})(?![A-Za-z0-9])/g;
/** Tokens looked at in one argument, at most. */
const MAX_CANDIDATES = 4096;

/**
 * Every code has a digit (TOKEN, CANDIDATE): a text without one states none. The global
 * regexes are reused with lastIndex reset (matchAll would copy each on every call); none
 * matches the empty string.
 */
const DIGIT = /\d/;

/** The codes a text states (normalised `code:<lowercase>`). */
export function codesIn(raw: string): Set<string> {
  const out = new Set<string>();
  if (!DIGIT.test(raw)) return out;
  const text = raw.replace(/\s+/g, ' ');
  AFTER_KEYWORD.lastIndex = 0;
  for (let match = AFTER_KEYWORD.exec(text); match; match = AFTER_KEYWORD.exec(text)) {
    const before = text.slice(Math.max(0, match.index - 24), match.index);
    if (NOT_SECRET.test(before)) continue;
    out.add(`code:${(match[1] as string).toLowerCase()}`);
  }
  BEFORE_KEYWORD.lastIndex = 0;
  for (let match = BEFORE_KEYWORD.exec(text); match; match = BEFORE_KEYWORD.exec(text))
    out.add(`code:${(match[1] as string).toLowerCase()}`);
  return out;
}

/** Every token of a code's shape in an argument (normalised as codesIn). */
export function codeCandidates(text: string): string[] {
  const out: string[] = [];
  if (!DIGIT.test(text)) return out;
  CANDIDATE.lastIndex = 0;
  for (let match = CANDIDATE.exec(text); match; match = CANDIDATE.exec(text)) {
    out.push(`code:${match[0].toLowerCase()}`);
    if (out.length >= MAX_CANDIDATES) break;
  }
  return out;
}
