"""Count the most frequent words in a text file, ignoring common stop words.

Words are sequences of letters (apostrophes inside a word are kept, so
"don't" is one word); digits and punctuation are ignored. Words are compared
case-insensitively, and a short list of very common English words such as
"the" and "and" is left out unless --keep-stop-words is given. Words with the
same count are listed alphabetically, so the output is stable.

Usage:
    python word_frequency.py                             # top 10 words of data/sample.txt
    python word_frequency.py notes.txt --top 25
    python word_frequency.py essay.txt --keep-stop-words
"""

import argparse
import re
from collections import Counter
from pathlib import Path

DEFAULT_TEXT = Path(__file__).resolve().parent / "data" / "sample.txt"

# Letters only ([^\W\d_] is "a word character that is not a digit or underscore"),
# optionally joined by apostrophes: "keeper's", "o'clock".
WORD_PATTERN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

# A deliberately short list of very common English words; extend it to taste.
_STOP_WORDS_TEXT = """
    a about after again all an and any are as at be been before but by could did do
    does for from had has have he her him his i if in into is it its me my no not of
    on once one only or our out over she so than that the their them then there they
    this to too up very was we were what when which while who will with would you your
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def count_words(text: str, keep_stop_words: bool = False) -> Counter[str]:
    # Curly apostrophes are common in pasted text; treat them like straight ones.
    text = text.replace("\u2019", "'").casefold()
    words = WORD_PATTERN.findall(text)
    if not keep_stop_words:
        words = [word for word in words if word not in STOP_WORDS]
    return Counter(words)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Count the most frequent words in a text file.")
    parser.add_argument(
        "text_file",
        nargs="?",
        type=Path,
        default=DEFAULT_TEXT,
        help="UTF-8 text file to analyse (default: the bundled data/sample.txt)",
    )
    parser.add_argument(
        "--top", type=positive_int, default=10, help="how many words to list (default: 10)"
    )
    parser.add_argument(
        "--keep-stop-words",
        action="store_true",
        help="also count common words such as 'the' and 'and'",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        text = args.text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"cannot read {args.text_file}: {exc}")

    counts = count_words(text, args.keep_stop_words)
    print(f"File: {args.text_file}")
    print(f"{counts.total()} words counted, {len(counts)} distinct")
    if not counts:
        return 0

    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: args.top]
    width = max(len(word) for word, _ in top)
    print(f"\nTop {len(top)}:")
    for rank, (word, count) in enumerate(top, start=1):
        print(f"  {rank:>3}. {word:<{width}}  {count}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
