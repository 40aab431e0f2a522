"""Grader for 6.5 Byte-Pair Encoding tokenization."""

import json

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from hfcourse import expect

TOK = "bytelevel-bpe-en"
CORPUS = [
    "This is the Hugging Face Course.",
    "This chapter is about tokenization.",
    "This section shows several tokenizer algorithms.",
    "Hopefully, you will be able to understand how they are trained and generate tokens.",
]
# The course's printed results on CORPUS (chapter 6.5).
COURSE_WORD_FREQS = {
    "This": 3, "Ġis": 2, "Ġthe": 1, "ĠHugging": 1, "ĠFace": 1, "ĠCourse": 1, ".": 4, "Ġchapter": 1,
    "Ġabout": 1, "Ġtokenization": 1, "Ġsection": 1, "Ġshows": 1, "Ġseveral": 1, "Ġtokenizer": 1,
    "Ġalgorithms": 1, "Hopefully": 1, ",": 1, "Ġyou": 1, "Ġwill": 1, "Ġbe": 1, "Ġable": 1, "Ġto": 1,
    "Ġunderstand": 1, "Ġhow": 1, "Ġthey": 1, "Ġare": 1, "Ġtrained": 1, "Ġand": 1, "Ġgenerate": 1, "Ġtokens": 1,
}
COURSE_FIRST_PAIRS = [(("T", "h"), 3), (("h", "i"), 3), (("i", "s"), 5), (("Ġ", "i"), 2), (("Ġ", "t"), 7)]
COURSE_MERGES = [
    ("Ġ", "t"), ("i", "s"), ("e", "r"), ("Ġ", "a"), ("Ġt", "o"), ("e", "n"), ("T", "h"), ("Th", "is"), ("o", "u"),
    ("s", "e"), ("Ġto", "k"), ("Ġtok", "en"), ("n", "d"), ("Ġ", "is"), ("Ġt", "h"), ("Ġth", "e"), ("i", "n"),
    ("Ġa", "b"), ("Ġtoken", "i"),
]
COURSE_VOCAB = [
    "<|endoftext|>", ",", ".", "C", "F", "H", "T", "a", "b", "c", "d", "e", "f", "g", "h", "i", "k", "l", "m", "n",
    "o", "p", "r", "s", "t", "u", "v", "w", "y", "z", "Ġ", "Ġt", "is", "er", "Ġa", "Ġto", "en", "Th", "This", "ou",
    "se", "Ġtok", "Ġtoken", "nd", "Ġis", "Ġth", "Ġthe", "in", "Ġab", "Ġtokeni",
]


def _explore(rng, examples):
    """Hypothesis settings: reproducible from the run's seed, no shrinking, no database."""
    def wrap(test):
        tuned = settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate,),
                         report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(test)
        return seed(rng.getrandbits(64))(tuned)
    return wrap


@st.composite
def _corpora(draw):
    """Lines of a few distinct words, each repeated a different number of times."""
    words = draw(st.lists(st.text("abcdeTé", min_size=1, max_size=7), min_size=2, max_size=7, unique=True))
    lines = []
    for word in words:
        partner = draw(st.sampled_from(words))
        line = f"{word} {partner}" if draw(st.booleans()) else word
        lines += [line] * draw(st.integers(1, 30))
    return lines


def _word_freqs(tok, corpus):
    freqs = {}
    for text in corpus:
        for word, _ in tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text):
            freqs[word] = freqs.get(word, 0) + 1
    return freqs


def _pairs(splits, freqs):
    out = {}
    for word, freq in freqs.items():
        for pair in zip(splits[word], splits[word][1:]):
            out[pair] = out.get(pair, 0) + freq
    return out


def _merge(splits, a, b):
    out = {}
    for word, split in splits.items():
        new, i = [], 0
        while i < len(split):
            if i + 1 < len(split) and split[i] == a and split[i + 1] == b:
                new.append(a + b)
                i += 2
            else:
                new.append(split[i])
                i += 1
        out[word] = new
    return out


def _replay(tok, corpus, merges):
    """Check every merge was a most frequent pair (the first met on a tie); return the step
    of the first tie (where 🤗 tokenizers may choose another pair) and whether pairs remain."""
    freqs = _word_freqs(tok, corpus)
    splits = {w: list(w) for w in freqs}
    first_tie = len(merges)
    for step, (a, b) in enumerate(merges):
        pairs = _pairs(splits, freqs)
        top = max(pairs.values(), default=0)
        best = [p for p, f in pairs.items() if f == top]
        expect.true(bool(best) and tuple((a, b)) == best[0],
                    f"merge {step} is {(a, b)}, expected {best[0] if best else 'none'} (frequency {top})",
                    likely=("merge the most frequent pair; on a tie keep the first one met (use >, not >=)",
                            "合并出现次数最多的对；并列时保留最先遇到的（用 >，不要用 >=）"))
        if len(best) > 1 and first_tie == len(merges):
            first_tie = step
        splits = _merge(splits, a, b)
    return first_tie, bool(_pairs(splits, freqs))


def _library_bpe(corpus, vocab_size):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"],
                                                        show_progress=False))
    return [tuple(m) for m in json.loads(tok.to_str())["model"]["merges"]]


def _library_encode(vocab, merges, text):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(vocab)}, merges=[tuple(m) for m in merges]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    return tok.encode(text).tokens


@pytest.mark.grade(points=1, visibility="visible",
                   hint="Count the words of tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text) for every text.",
                   hint_zh="对每个文本，统计 tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text) 得到的词。")
def test_word_frequencies(student, fx, rng):
    got = student.word_frequencies(CORPUS, fx.ref(TOK))
    expect.equal(got, COURSE_WORD_FREQS, "word frequencies of the course corpus",
                 likely=("use the GPT-2 pre-tokenizer: words after a space start with Ġ",
                         "使用 GPT-2 的预分词器：空格后的词以 Ġ 开头"))
    expect.equal(list(got), list(COURSE_WORD_FREQS), "order of the words (first appearance)")
    corpus = [" ".join(rng.sample(CORPUS, 2)), rng.choice(CORPUS).lower(), "  tokens,  tokens! "]
    expect.equal(student.word_frequencies(corpus, fx.ref(TOK)), _word_freqs(fx.load(TOK), corpus), f"frequencies of {corpus!r}")


@pytest.mark.grade(points=1, hint="For every word, add its frequency to each pair (split[i], split[i + 1]).",
                   hint_zh="对每个词，把它的频率加到每一对 (split[i], split[i + 1]) 上。")
def test_compute_pair_freqs(student, rng):
    splits = {w: list(w) for w in COURSE_WORD_FREQS}
    got = student.compute_pair_freqs(splits, COURSE_WORD_FREQS)
    expect.equal([tuple(p) for p, _ in got[:5]], [p for p, _ in COURSE_FIRST_PAIRS], "first five pairs")
    expect.equal([f for _, f in got[:5]], [f for _, f in COURSE_FIRST_PAIRS], "their frequencies",
                 likely=("weight each pair by the frequency of its word", "每个对都要乘以所在词的频率"))
    words = {"".join(rng.choice("xyz") for _ in range(rng.randint(1, 6))): rng.randint(1, 9) for _ in range(8)}
    splits = {w: list(w) for w in words}
    got = student.compute_pair_freqs(splits, words)
    want = _pairs(splits, words)
    expect.equal([(tuple(p), f) for p, f in got], list(want.items()), f"pair frequencies of {words}",
                 likely=("count overlapping pairs too: 'xxx' holds ('x', 'x') twice", "重叠的对也要计数：'xxx' 含两次 ('x', 'x')"))


@pytest.mark.grade(points=1, hint="Scan each split left to right; when split[i] == a and split[i + 1] == b, replace both by a + b.",
                   hint_zh="从左到右扫描每个切分；当 split[i] == a 且 split[i + 1] == b 时，用 a + b 替换这两个。")
def test_merge_pair(student, rng):
    splits = {w: list(w) for w in COURSE_WORD_FREQS}
    got = student.merge_pair("Ġ", "t", splits)
    expect.equal(got["Ġtrained"], ["Ġt", "r", "a", "i", "n", "e", "d"], "split of 'Ġtrained' after merging ('Ġ', 't')")
    expect.equal(got["Ġtokens"], ["Ġt", "o", "k", "e", "n", "s"], "split of 'Ġtokens'")
    a, b = rng.sample("xyz", 2)
    words = ["".join(rng.choice([a, b, a + b]) for _ in range(rng.randint(2, 6))) for _ in range(5)] + [a * 3]
    splits = {w: list(w) for w in words}
    expect.equal(student.merge_pair(a, a, splits), _merge(splits, a, a), f"merging ({a!r}, {a!r}) in {words}",
                 likely=("after a merge, continue after the new token: 'xxx' becomes ['xx', 'x']",
                         "合并后从新 token 之后继续：'xxx' 变成 ['xx', 'x']"))
    expect.equal(student.merge_pair(a, b, splits), _merge(splits, a, b), f"merging ({a!r}, {b!r}) in {words}")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Start from ['<|endoftext|>'] + sorted alphabet; merge the most frequent pair until the vocabulary is full.",
                   hint_zh="从 ['<|endoftext|>'] + 排序后的字母表开始；反复合并出现次数最多的对，直到词表满。")
def test_train_bpe_course(student, fx):
    vocab, merges = student.train_bpe(CORPUS, fx.ref(TOK), 50)
    expect.equal([tuple(m) for m in merges], COURSE_MERGES, "merges learned on the course corpus (vocabulary of 50)",
                 likely=("on a tie keep the first pair met; recompute the pair frequencies after every merge",
                         "并列时保留最先遇到的对；每次合并后重新计算对的频率"))
    expect.equal(vocab, COURSE_VOCAB, "vocabulary")


@pytest.mark.grade(points=1, hint="Split each pre-tokenized word into characters, then apply the merges in the order learned.",
                   hint_zh="把每个预分词得到的词拆成字符，再按学习顺序依次应用合并规则。")
def test_bpe_tokenize(student, fx, rng):
    got = student.bpe_tokenize("This is not a token.", COURSE_MERGES, fx.ref(TOK))
    expect.equal(got, ["This", "Ġis", "Ġ", "n", "o", "t", "Ġa", "Ġtoken", "."], "tokens of 'This is not a token.'")
    text = " ".join(rng.sample(CORPUS, 3))
    expect.equal(student.bpe_tokenize(text, COURSE_MERGES, fx.ref(TOK)),
                 _library_encode(COURSE_VOCAB, COURSE_MERGES, text), f"tokens of {text!r}",
                 likely=("apply every merge to every word, in the order of the merges", "按合并规则的顺序，把每条规则应用到每个词"))


@pytest.mark.grade(points=2, hint="Ties are broken by the first pair met; stop when no pair is left. Encoding replays the merges in order.",
                   hint_zh="并列时取最先遇到的对；没有可合并的对时停止。编码时按顺序重放合并规则。")
def test_bpe_on_random_corpora(student, reference, fx, rng):
    tok = fx.load(TOK)

    @_explore(rng, 8)
    @given(corpus=_corpora(), vocab_size=st.integers(8, 45))
    def check(corpus, vocab_size):
        vocab, merges = student.train_bpe(corpus, fx.ref(TOK), vocab_size)
        merges = [tuple(m) for m in merges]
        alphabet = sorted({c for w in _word_freqs(tok, corpus) for c in w})
        first_tie, pairs_left = _replay(tok, corpus, merges)
        expect.equal(vocab, ["<|endoftext|>", *alphabet, *(a + b for a, b in merges)], f"vocabulary for {corpus[:3]}…")
        full = max(vocab_size, len(alphabet) + 1)
        expect.true(len(vocab) == full if pairs_left else len(vocab) <= full,
                    f"vocabulary of {len(vocab)} tokens for vocab_size={vocab_size} (alphabet of {len(alphabet)})",
                    likely=("stop when the vocabulary is full or no pair is left", "词表已满或没有可合并的对时停止"))
        library = _library_bpe(corpus, vocab_size)[:first_tie]
        expect.equal(merges[:first_tie], library, "merges before the first tie, against 🤗 tokenizers' BpeTrainer")
        ref_vocab, ref_merges = reference.train_bpe(corpus, fx.ref(TOK), vocab_size)
        expect.equal(merges, [tuple(m) for m in ref_merges], "merges")
        text = " ".join(dict.fromkeys(corpus)) if "Ġ" in alphabet else corpus[-1]
        expect.equal(student.bpe_tokenize(text, merges, fx.ref(TOK)), _library_encode(vocab, merges, text),
                     f"tokens of {text!r}, against 🤗 tokenizers' BPE model with the same merges")

    check()
