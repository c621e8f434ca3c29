// English number words at the start of an answer: "five" -> 5, "twenty-one" -> 21, "one hundred and five" -> 105.
//
// The published grader ran word2number's `word_to_num` on the whole answer, which ignores words it does not know,
// so any answer mentioning a number word became that number. Here only a leading phrase made entirely of number
// words is converted, and only when it ends the answer or is followed by at most two words (a unit: "five
// apples", handled by normalisation); "one of the five" stays text. Words inside other words ("none", "tone",
// "someone") never match.

const UNITS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
};

const TENS: Record<string, number> = {
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
};

const SCALES: Record<string, number> = { thousand: 1e3, million: 1e6, billion: 1e9 };

/** A number-word phrase is converted only when at most this many words follow it (a unit). */
const MAX_TRAILING_WORDS = 2;

function isNumberWord(word: string): boolean {
  return word in UNITS || word in TENS || word === 'hundred' || word in SCALES;
}

/** The value of a sequence of number words, or null when it is not a well-formed number phrase. */
function phraseValue(words: readonly string[]): number | null {
  let total = 0;
  let current = 0;
  let sawAny = false;
  for (const word of words) {
    if (word in UNITS) current += UNITS[word];
    else if (word in TENS) current += TENS[word];
    else if (word === 'hundred') current = (current || 1) * 100;
    else if (word in SCALES) {
      total += (current || 1) * SCALES[word];
      current = 0;
    } else return null;
    sawAny = true;
  }
  return sawAny ? total + current : null;
}

/** Replaces a leading number-word phrase by its digits; returns the text unchanged when there is none. */
export function leadingNumberWordsToDigits(text: string): string {
  const match = /^\s*([A-Za-z]+(?:[\s-]+[A-Za-z]+)*)/.exec(text);
  if (!match) return text;
  const tokens = match[1].split(/[\s-]+/);
  const words: string[] = [];
  let consumed = 0;
  for (let k = 0; k < tokens.length; k++) {
    const word = tokens[k].toLowerCase();
    const joinsScale =
      word === 'and' && words.length > 0 && k + 1 < tokens.length && isNumberWord(tokens[k + 1].toLowerCase());
    if (!isNumberWord(word) && !joinsScale) break;
    if (!joinsScale) words.push(word);
    consumed = k + 1;
  }
  if (words.length === 0) return text;
  const value = phraseValue(words);
  if (value === null) return text;
  // Find where the consumed tokens end in the original text.
  const tokenPattern = /[A-Za-z]+/g;
  let end = 0;
  for (let k = 0; k < consumed; k++) {
    const token = tokenPattern.exec(text);
    if (!token) return text;
    end = token.index + token[0].length;
  }
  const rest = text.slice(end);
  if (rest !== '' && !/^\s/.test(rest)) return text;
  // "five apples" and "twenty square units" convert; "one of the five" is prose, not a number with a unit.
  if (
    rest
      .trim()
      .split(/\s+/)
      .filter((word) => word !== '').length > MAX_TRAILING_WORDS
  )
    return text;
  return String(value) + rest;
}
