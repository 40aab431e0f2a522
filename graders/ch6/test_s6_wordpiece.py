"""Grader for 6.6 WordPiece tokenization."""

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from hfcourse import expect

TOK = "wordpiece-cased-entities"
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CORPUS = [
    "This is the Hugging Face Course.",
    "This chapter is about tokenization.",
    "This section shows several tokenizer algorithms.",
    "Hopefully, you will be able to understand how they are trained and generate tokens.",
]
# The course's printed results on CORPUS with bert-base-cased's pre-tokenizer (chapter 6.6).
COURSE_ALPHABET = [
    "##a", "##b", "##c", "##d", "##e", "##f", "##g", "##h", "##i", "##k", "##l", "##m", "##n", "##o", "##p", "##r",
    "##s", "##t", "##u", "##v", "##w", "##y", "##z", ",", ".", "C", "F", "H", "T", "a", "b", "c", "g", "h", "i", "s",
    "t", "u", "w", "y",
]
COURSE_FIRST_SCORES = [(("T", "##h"), 0.125), (("##h", "##i"), 0.03409090909090909), (("##i", "##s"), 0.02727272727272727),
                       (("i", "##s"), 0.1), (("t", "##h"), 0.03571428571428571), (("##h", "##e"), 0.011904761904761904)]
COURSE_VOCAB = SPECIALS + COURSE_ALPHABET + [
    "ab", "##fu", "Fa", "Fac", "##ct", "##ful", "##full", "##fully", "Th", "ch", "##hm", "cha", "chap", "chapt",
    "##thm", "Hu", "Hug", "Hugg", "sh", "th", "is", "##thms", "##za", "##zat", "##ut",
]
COURSE_TOKENS = ["Th", "##i", "##s", "is", "th", "##e", "Hugg", "##i", "##n", "##g", "Fac", "##e", "c", "##o", "##u",
                 "##r", "##s", "##e", "[UNK]"]


def _explore(rng, examples):
    """Hypothesis settings: reproducible from the run's seed, no shrinking, no database."""
    def wrap(test):
        tuned = settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate,),
                         report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(test)
        return seed(rng.getrandbits(64))(tuned)
    return wrap


@st.composite
def _corpora(draw):
    words = draw(st.lists(st.text("abcdeT", min_size=1, max_size=7), min_size=2, max_size=7, unique=True))
    lines = []
    for word in words:
        partner = draw(st.sampled_from(words))
        line = f"{word} {partner}." if draw(st.booleans()) else word
        lines += [line] * draw(st.integers(1, 12))
    return lines


def _word_freqs(tok, corpus):
    freqs = {}
    for text in corpus:
        for word, _ in tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text):
            freqs[word] = freqs.get(word, 0) + 1
    return freqs


def _first_split(word):
    return [c if i == 0 else "##" + c for i, c in enumerate(word)]


def _scores(splits, freqs):
    single, pairs = {}, {}
    for word, freq in freqs.items():
        split = splits[word]
        for i, token in enumerate(split):
            single[token] = single.get(token, 0) + freq
            if i + 1 < len(split):
                pairs[(token, split[i + 1])] = pairs.get((token, split[i + 1]), 0) + freq
    return {p: f / (single[p[0]] * single[p[1]]) for p, f in pairs.items()}


def _floats(values):
    return torch.tensor([float(v) for v in values], dtype=torch.float64)


def _join(a, b):
    return a + b[2:] if b.startswith("##") else a + b


def _merge(splits, a, b):
    out = {}
    for word, split in splits.items():
        new, i = [], 0
        while i < len(split):
            if i + 1 < len(split) and split[i] == a and split[i + 1] == b:
                new.append(_join(a, b))
                i += 2
            else:
                new.append(split[i])
                i += 1
        out[word] = new
    return out


def _replay(tok, corpus, learned):
    """Check each learned token is the merge of a best-scoring pair (the first met on a tie)."""
    freqs = _word_freqs(tok, corpus)
    splits = {w: _first_split(w) for w in freqs}
    for step, token in enumerate(learned):
        scores = _scores(splits, freqs)
        top = max(scores.values(), default=0.0)
        best = next((p for p, s in scores.items() if s >= top * (1 - 1e-12)), None)
        expect.true(best is not None and _join(*best) == token,
                    f"learned token {step} is {token!r}, expected {_join(*best) if best else 'none'!r} "
                    f"(pair {best}, score {top:.6g})",
                    likely=("merge the pair with the highest freq(pair) / (freq(a) * freq(b)), not the most frequent one",
                            "合并 freq(pair) / (freq(a) * freq(b)) 最高的对，而不是出现次数最多的"))
        splits = _merge(splits, *best)
    return bool(_scores(splits, freqs))


def _library_tokens(vocab, tok, text):
    from tokenizers import Tokenizer, models

    lib = Tokenizer(models.WordPiece({t: i for i, t in enumerate(dict.fromkeys(vocab))}, unk_token="[UNK]",
                                     max_input_chars_per_word=100))
    lib.pre_tokenizer = tok.backend_tokenizer.pre_tokenizer
    return lib.encode(text).tokens


@pytest.mark.grade(points=1, visibility="visible",
                   hint="A word's first character stays as is; every later character gets the ## prefix. Sort the result.",
                   hint_zh="词的第一个字符保持原样；后面的每个字符加上 ## 前缀。最后排序。")
def test_alphabet(student, fx, rng):
    freqs = student.word_frequencies(CORPUS, fx.ref(TOK))
    expect.equal(freqs, _word_freqs(fx.load(TOK), CORPUS), "word frequencies of the course corpus")
    expect.equal(freqs["This"], 3, "frequency of 'This'")
    expect.equal(student.wordpiece_alphabet(freqs), COURSE_ALPHABET, "alphabet of the course corpus",
                 likely=("only characters after the first get ##, and each token appears once",
                         "只有首字符之后的字符加 ##，且每个 token 只出现一次"))
    words = {"".join(rng.choice("abT") for _ in range(rng.randint(1, 4))): 1 for _ in range(6)}
    want = sorted({w[0] for w in words} | {"##" + c for w in words for c in w[1:]})
    expect.equal(student.wordpiece_alphabet(words), want, f"alphabet of {list(words)}")


@pytest.mark.grade(points=1, hint="score = freq(pair) / (freq(first) * freq(second)); count the tokens of one-token words too.",
                   hint_zh="得分 = freq(pair) / (freq(first) * freq(second))；单 token 的词中的 token 也要计数。")
def test_compute_pair_scores(student, fx, rng):
    freqs = _word_freqs(fx.load(TOK), CORPUS)
    splits = {w: _first_split(w) for w in freqs}
    got = student.compute_pair_scores(splits, freqs)
    expect.equal([tuple(p) for p, _ in got[:6]], [p for p, _ in COURSE_FIRST_SCORES], "first six pairs")
    expect.close(_floats([s for _, s in got[:6]]), _floats([s for _, s in COURSE_FIRST_SCORES]), "their scores",
                 rtol=1e-12, atol=0,
                 likely=("divide the pair's frequency by the product of its two tokens' frequencies",
                         "用对的频率除以两个 token 频率的乘积"))
    best = max(got, key=lambda item: item[1])
    expect.equal((tuple(best[0]), round(best[1], 12)), (("a", "##b"), 0.2), "best pair and its score")
    words = {"".join(rng.choice("xy") for _ in range(rng.randint(2, 5))): rng.randint(1, 9) for _ in range(8)}
    words[next(iter(words))[0]] = rng.randint(2, 9)
    splits = {w: _first_split(w) for w in words}
    want = _scores(splits, words)
    got = student.compute_pair_scores(splits, words)
    expect.equal([tuple(p) for p, _ in got], list(want), f"pairs of {words}")
    expect.close(_floats([s for _, s in got]), _floats(want.values()), f"pair scores of {words}", rtol=1e-12, atol=0,
                 likely=("a one-token word still counts towards its token's frequency", "只有一个 token 的词也要计入该 token 的频率"))


@pytest.mark.grade(points=1, hint="Merging ('Hu', '##g') gives 'Hug': drop the ## of the second token.",
                   hint_zh="合并 ('Hu', '##g') 得到 'Hug'：去掉第二个 token 的 ##。")
def test_merge_pair(student, fx, rng):
    freqs = _word_freqs(fx.load(TOK), CORPUS)
    splits = {w: _first_split(w) for w in freqs}
    got = student.merge_pair("a", "##b", splits)
    expect.equal(got["about"], ["ab", "##o", "##u", "##t"], "split of 'about' after merging ('a', '##b')")
    expect.equal(got["able"], ["ab", "##l", "##e"], "split of 'able'")
    words = ["".join(rng.choice("xy") for _ in range(rng.randint(2, 6))) for _ in range(6)] + ["yyy"]
    splits = {w: _first_split(w) for w in words}
    for a, b in (("##y", "##y"), ("x", "##y"), ("y", "##x")):
        expect.equal(student.merge_pair(a, b, splits), _merge(splits, a, b), f"merging ({a!r}, {b!r}) in {words}",
                     likely=("the merged token keeps the ## of the first token only", "合并后的 token 只保留第一个 token 的 ##"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Start from the special tokens and the alphabet; merge the best-scoring pair until there are 70 tokens.",
                   hint_zh="从特殊 token 和字母表开始；反复合并得分最高的对，直到有 70 个 token。")
def test_train_wordpiece_course(student, fx):
    got = student.train_wordpiece(CORPUS, fx.ref(TOK), 70)
    expect.equal(got, COURSE_VOCAB, "vocabulary learned on the course corpus (70 tokens)",
                 likely=("merge by score, not frequency; on a tie keep the first pair met (use >)",
                         "按得分而不是频率合并；并列时保留最先遇到的对（用 >）"))


@pytest.mark.grade(
    points=1,
    hint="Take the longest prefix in the vocabulary, continue with '##' + the rest; no prefix at all gives ['[UNK]'].",
    hint_zh="取词表中最长的前缀，剩余部分加 '##' 继续；找不到任何前缀时返回 ['[UNK]']。")
def test_encode_word(student, fx, rng):
    expect.equal(student.encode_word("Hugging", COURSE_VOCAB), ["Hugg", "##i", "##n", "##g"], "tokens of 'Hugging'")
    expect.equal(student.encode_word("HOgging", COURSE_VOCAB), ["[UNK]"], "tokens of 'HOgging'",
                 likely=("if any part of the word cannot be matched, the whole word is [UNK]", "只要词的某部分无法匹配，整个词就是 [UNK]"))
    expect.equal(student.wp_tokenize("This is the Hugging Face course!", COURSE_VOCAB, fx.ref(TOK)), COURSE_TOKENS,
                 "tokens of 'This is the Hugging Face course!'")
    tok = fx.load(TOK)
    text = " ".join(rng.choice(["Hugging", "chapters", "about", "Thus", "Face!", "shows", "ability", "Xylophone"])
                    for _ in range(6))
    expect.equal(student.wp_tokenize(text, COURSE_VOCAB, fx.ref(TOK)), _library_tokens(COURSE_VOCAB, tok, text),
                 f"tokens of {text!r}, against 🤗 tokenizers' WordPiece model")


@pytest.mark.grade(points=2, hint="Recompute the scores after every merge; ties go to the first pair met; stop when no pair is left.",
                   hint_zh="每次合并后重新计算得分；并列时取最先遇到的对；没有可合并的对时停止。")
def test_wordpiece_on_random_corpora(student, reference, fx, rng):
    tok = fx.load(TOK)

    @_explore(rng, 8)
    @given(corpus=_corpora(), vocab_size=st.integers(8, 40))
    def check(corpus, vocab_size):
        vocab = student.train_wordpiece(corpus, fx.ref(TOK), vocab_size)
        freqs = _word_freqs(tok, corpus)
        alphabet = sorted({w[0] for w in freqs} | {"##" + c for w in freqs for c in w[1:]})
        start = SPECIALS + alphabet
        expect.equal(vocab[:len(start)], start, f"first tokens of the vocabulary for {corpus[:3]}…")
        pairs_left = _replay(tok, corpus, vocab[len(start):])
        full = max(vocab_size, len(start))
        expect.true(len(vocab) == full if pairs_left else len(vocab) <= full,
                    f"vocabulary of {len(vocab)} tokens for vocab_size={vocab_size} ({len(start)} to start with)",
                    likely=("stop when the vocabulary is full or no pair is left", "词表已满或没有可合并的对时停止"))
        expect.equal(vocab, reference.train_wordpiece(corpus, fx.ref(TOK), vocab_size), "vocabulary")
        text = " ".join(dict.fromkeys(corpus)) + " Tadbe eTTa"
        expect.equal(student.wp_tokenize(text, vocab, fx.ref(TOK)), _library_tokens(vocab, tok, text),
                     f"tokens of {text!r}, against 🤗 tokenizers' WordPiece model with the same vocabulary")

    check()
