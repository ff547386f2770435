// Does a text look like a prompt injection: instructions aimed at the assistant rather than
// at the person reading? Two kinds of signal. A strong one alone is enough: text addressed
// to an AI by name or role, "ignore previous instructions", instruction blocks in tags,
// claims to speak for the user to the assistant, hidden characters, pointers at key files.
// Weak ones are phrasings an honest mail or README may use once ("before you start the
// task", "this is an important message", "urgent"); two different ones in one text are.
// Deterministic and pattern-based: it only ever adds a label. False positives on honest
// text are measured by bench/injection-fp.mjs (docs/eval.md).
// Input distrusted: any text headed to the model.

/** An AI, by role or by product name, as an injection addresses it. */
const AI = String.raw`(?:AI|A\.I\.|LLM|chatbot|Claude|ChatGPT|GPT[\w.-]*|Gemini|Copilot|Llama|Mistral|language model)`;
/** The same, counting the roles an honest text uses for people too. */
const AI_OR_ROLE = `(?:${AI}|assistant|agent|model|bot)`;

const STRONG: readonly RegExp[] = [
  // Overriding what came before.
  /\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all|any|your)\b[^.\n]{0,20}\b(?:instructions?|prompts?|rules?|directions?)\b/i,
  /\b(?:new|updated|real|true|actual)\s+(?:instructions?|task|objective)\s*[:-]/i,
  /\b(?:you are|act as)\s+(?:now\s+)?(?:an?\s+)?(?:unrestricted|jailbroken|DAN)\b/i,
  // Addressed to the assistant: "to you, GPT-4", "Dear Claude", "Note to the AI:", "AI agents:".
  new RegExp(String.raw`\bto you,?\s+(?:the\s+|my\s+|our\s+)?${AI_OR_ROLE}\b`, 'i'),
  new RegExp(
    String.raw`\b(?:dear|hey|hello|hi|attention|note to|message to|message for|instructions? for|reminder for)\s+(?:the\s+|all\s+|any\s+)?${AI}(?:\s+${AI_OR_ROLE}s?)?\b`,
    'i',
  ),
  new RegExp(String.raw`\b${AI}\s+(?:assistants?|agents?|models?|systems?|tools?)\s*[:,]`, 'i'),
  new RegExp(
    String.raw`\b(?:if you are|if you're|as)\s+an?\s+${AI_OR_ROLE}\b[^.\n]{0,40}\b(?:must|should|need to|please|reading|processing)\b`,
    'i',
  ),
  /\b(?:assistants?|AI agents?|AI models?|LLMs?|bots?)\s+(?:included|too|as well)\b/i,
  // Speaking for the user, to the assistant.
  /\b(?:the|your)\s+(?:user|owner|principal)\s+(?:wants|asked|has asked|needs|instructs?|requests?|would like)\s+(?:you|the assistant|the agent)\s+to\b/i,
  /\b(?:do not|don't|never)\s+(?:tell|inform|mention|reveal|show)\b[^.\n]{0,30}\b(?:user|human|anyone)\b/i,
  // Instruction blocks in tags and markup.
  /<\s*\/?\s*(?:IMPORTANT|SYSTEM|INST|INFORMATION|instructions?|admin|(?:system|assistant|ai|admin)[_-]?(?:message|note|prompt|instructions?))\s*>/i,
  /\[\s*(?:SYSTEM|INST|ADMIN)(?:\s+(?:NOTE|MESSAGE|INSTRUCTIONS?))?\s*\]/i,
  // Pointers at key files, and text a reader cannot see.
  /(?:~|\$HOME)\/\.(?:ssh|aws|gnupg|config\/gcloud|kube|docker|netrc)\b/i,
  /\bid_(?:rsa|ed25519|ecdsa|dsa)\b/i,
  /\b(?:reveal|print|show|send|output|repeat|leak|dump|mail|share|tell|give)\b[^.\n]{0,40}\bsystem\s+prompt\b/i,
  // Zero-width and bidi controls, and a joiner or tag characters outside an emoji (hidden()).
  /[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064]|(?!^)\ufeff/u,
];

/**
 * Strong in content, weak in a tool's descriptor: a description is written to tell the
 * model how to use the tool ("a checklist the agent must satisfy"), so there it counts as
 * one weak signal.
 */
const TOLD_WHAT_TO_DO =
  /\b(?:AI|assistant|agent|model|LLM|chatbot|Claude|ChatGPT|GPT)\b[^.\n]{0,30}\b(?:must|should|need to|are required to|will now)\b/i;

/** An emoji ZWJ sequence, and a subdivision flag (black flag, tag letters, cancel tag). */
const EMOJI_JOIN =
  /(?:\p{Extended_Pictographic}|[\u{1f3fb}-\u{1f3ff}])\ufe0f?\u200d(?=\p{Extended_Pictographic})/gu;
const TAG_FLAG = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu;
/** Characters that hide text, once the emoji that use them legitimately are set aside. */
function hidden(text: string): boolean {
  if (!/[\u200d\u{e0000}-\u{e007f}]/u.test(text)) return false;
  return /[\u200d\u{e0000}-\u{e007f}]/u.test(text.replace(EMOJI_JOIN, '').replace(TAG_FLAG, ''));
}

const WEAK: readonly RegExp[] = [
  // Putting its own errand before the task the reader was given.
  /\bbefore (?:you )?(?:can |do |start |begin )?(?:solv|complet|do|start|begin|continu|answer|finish|proceed|work)\w*\b[^.\n]{0,40}\b(?:task|request|question|job)\b/i,
  /\b(?:the|your)\s+(?:original\s+|actual\s+|first\s+)?(?:task|request|job)\s+(?:that\s+)?(?:I|the user|they|he|she|we)\s+(?:gave|assigned|asked|set)\b/i,
  /\bafter you (?:do|have done|did|finish|complete)\w* (?:that|this|these|it)\b[^.\n]{0,30}\b(?:you can|continue|go back|proceed|return)\b/i,
  /\b(?:please\s+)?do the following(?:\s+\w+){0,2}\s+first\b|\bfirst,? (?:please )?do the following\b/i,
  /\bbefore anything else\b/i,
  // Authority and urgency.
  /\b(?:this is an?|here is an?)\s+(?:very\s+)?(?:important|urgent|critical)\s+(?:message|notice|instruction|request)\b/i,
  /\b(?:message|instructions?|request|note|orders?) from (?:me,|(?:the|your) (?:user|owner|admin(?:istrator)?|developer|operator)\b)/i,
  /\bon behalf of (?:the|your) (?:user|owner)\b/i,
  /\b(?:urgent|immediately|right away|without delay|asap)\b/i,
  /(?:^|\n)\s*signed,?\s*(?:\n|$)/i,
  /<!--[^>]{0,80}\b(?:AI|LLM|assistant|agent|model)\b/i,
  // Documentation about prompts says these too; an injection says them with another signal.
  /(?:^|\n)[ \t]*#{1,6}[ \t]*(?:system|assistant|AI|agent)[ \t]+(?:instructions?|note|message|prompt)\b|\bsystem\s+prompt\b/i,
];

/**
 * Whether any of `patterns` matches, in one scan per set of flags instead of one per
 * pattern: a text of tens of KB read by thirty regexes in turn cost more than everything
 * else the kernel does with it. Alternatives of one regex, each in a group of its own,
 * match where and only where one of the patterns does (none uses a backreference, and
 * none is global or sticky, whose test() would keep a position).
 */
function anyOf(patterns: readonly RegExp[]): (text: string) => boolean {
  const byFlags = new Map<string, string[]>();
  for (const pattern of patterns) {
    const sources = byFlags.get(pattern.flags) ?? [];
    sources.push(`(?:${pattern.source})`);
    byFlags.set(pattern.flags, sources);
  }
  const combined = [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
  return (text) => combined.some((regex) => regex.test(text));
}

const anyStrong = anyOf(STRONG);
const anyWeak = anyOf(WEAK);

/** What a text is: content (what tools return, pages, mail) or a tool's descriptor. */
export type TextGenre = 'content' | 'descriptor';

/** Markers of instructions aimed at the assistant, hidden text, or pointers at secrets. */
export function looksInjected(text: string, genre: TextGenre = 'content'): boolean {
  if (anyStrong(text)) return true;
  if (hidden(text)) return true;
  let weak = 0;
  if (TOLD_WHAT_TO_DO.test(text)) {
    if (genre === 'content') return true;
    weak++;
  }
  // Most texts show no weak signal at all: one scan says so; which ones, only if some.
  if (!anyWeak(text)) return false;
  for (const pattern of WEAK) {
    if (pattern.test(text) && ++weak >= 2) return true;
  }
  return false;
}

/** Which signals a text shows (for measuring false positives), by kind and index. */
export function injectionSignals(text: string): string[] {
  const out: string[] = [];
  STRONG.forEach((pattern, i) => {
    if (pattern.test(text)) out.push(`strong#${i}`);
  });
  WEAK.forEach((pattern, i) => {
    if (pattern.test(text)) out.push(`weak#${i}`);
  });
  if (TOLD_WHAT_TO_DO.test(text)) out.push('told-what-to-do');
  if (hidden(text)) out.push('hidden');
  return out;
}
