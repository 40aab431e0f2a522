"""Grader for 6.7 Unigram tokenization."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from hfcourse import expect

TOK = "unigram-t5-like"
CORPUS = [
    "This is the Hugging Face Course.",
    "This chapter is about tokenization.",
    "This section shows several tokenizer algorithms.",
    "Hopefully, you will be able to understand how they are trained and generate tokens.",
]
# The course's printed results on CORPUS with a Metaspace pre-tokenizer (chapter 6.7).
COURSE_TOP_SUBWORDS = [("▁t", 7), ("is", 5), ("er", 5), ("▁a", 5), ("▁to", 4), ("to", 4), ("en", 4), ("▁T", 3),
                       ("▁Th", 3), ("▁Thi", 3)]
COURSE_HOPEFULLY = (["H", "o", "p", "e", "f", "u", "ll", "y"], 41.5157494601402)
COURSE_THIS = (["This"], 6.288267030694535)
COURSE_LOSS = 413.10377642940875
COURSE_SCORES = {"ll": 6.376412403623874, "his": 0.0}
COURSE_TOKENS = ["▁This", "▁is", "▁the", "▁Hugging", "▁Face", "▁", "c", "ou", "r", "s", "e", "."]


def _explore(rng, examples):
    """Hypothesis settings: reproducible from the run's seed, no shrinking, no database."""
    def wrap(test):
        tuned = settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate,),
                         report_multiple_bugs=False, suppress_health_check=list(HealthCheck))(test)
        return seed(rng.getrandbits(64))(tuned)
    return wrap


def _score():
    return st.floats(0.25, 9.0, allow_nan=False, allow_infinity=False)


@st.composite
def _models(draw):
    """A model with every character of 'abcd' and some longer pieces, and words to segment."""
    model = {c: draw(_score()) for c in "abcd"}
    for piece in draw(st.lists(st.text("abcd", min_size=2, max_size=4), max_size=14)):
        model[piece] = draw(_score())
    words = draw(st.lists(st.text("abcd", min_size=1, max_size=8), min_size=1, max_size=5))
    return model, words


def _word_freqs(tok, corpus):
    freqs = {}
    for text in corpus:
        for word, _ in tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text):
            freqs[word] = freqs.get(word, 0) + 1
    return freqs


def _segmentations(word, model):
    """(cost, tokens) of every segmentation of ``word`` into tokens of ``model``, cheapest first."""
    out = []
    for cuts in itertools.product((False, True), repeat=len(word) - 1):
        tokens, last = [], 0
        for i, cut in enumerate(cuts, 1):
            if cut:
                tokens.append(word[last:i])
                last = i
        tokens.append(word[last:])
        if all(t in model for t in tokens):
            out.append((sum(model[t] for t in tokens), tokens))
    return sorted(out, key=lambda item: item[0])


def _library_tokens(model, word):
    from tokenizers import Tokenizer, models

    return Tokenizer(models.Unigram([(t, -s) for t, s in model.items()])).encode(word).tokens


def _close(got, want, what, likely=None):
    expect.true(isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12),
                f"{what}: expected {want!r}, got {got!r}", likely)


@pytest.mark.grade(points=1, visibility="visible",
                   hint="Count every character and every substring of length >= 2 of each word, weighted by the word's frequency.",
                   hint_zh="统计每个词的每个字符和每个长度 >= 2 的子串，按词频加权。")
def test_initial_vocabulary(student, fx, rng):
    freqs = student.word_frequencies(CORPUS, fx.ref(TOK))
    expect.equal(freqs, _word_freqs(fx.load(TOK), CORPUS), "word frequencies of the course corpus")
    vocab = student.initial_vocabulary(freqs, 300)
    expect.equal(len(vocab), 300, "size of the initial vocabulary")
    chars = list(dict.fromkeys(c for w in freqs for c in w))
    expect.equal(list(vocab)[:len(chars)], chars, "the characters come first, in order of appearance")
    expect.equal(list(vocab.items())[len(chars):len(chars) + 10], COURSE_TOP_SUBWORDS, "the ten most frequent substrings",
                 likely=("sort the substrings by frequency, highest first", "按频率从高到低排列子串"))
    words = {"".join(rng.choice("xy") for _ in range(rng.randint(2, 5))): rng.randint(1, 5) for _ in range(4)}
    want = {}
    for w, f in words.items():
        for i in range(len(w)):
            for j in range(i + 1, len(w) + 1):
                want[w[i:j]] = want.get(w[i:j], 0) + f
    got = student.initial_vocabulary(words, 1000)
    expect.equal(dict(sorted(got.items())), dict(sorted(want.items())), f"vocabulary of {words} (all substrings fit)")


@pytest.mark.grade(points=1, hint="score = -log(freq / total): probabilities become costs, and exp(-score) sums to 1.",
                   hint_zh="得分 = -log(freq / total)：概率变成代价，exp(-score) 之和为 1。")
def test_unigram_model(student, rng):
    freqs = {"".join(rng.choice("abc") for _ in range(rng.randint(1, 3))): rng.randint(1, 50) for _ in range(8)}
    got = student.unigram_model(freqs)
    expect.equal(sorted(got), sorted(freqs), "tokens of the model")
    total = sum(freqs.values())
    for token, freq in freqs.items():
        _close(got[token], -math.log(freq / total), f"score of {token!r}",
               likely=("use -log(freq / total), the negative log-probability", "使用 -log(freq / total)，即负对数概率"))


@pytest.mark.grade(points=1, visibility="visible",
                   hint="best[end] keeps the lowest score and the start of its last token; walk back from the end to read the tokens.",
                   hint_zh="best[end] 保存最低得分及其最后一个 token 的起点；从末尾往回走得到 token。")
def test_encode_word_course(student, fx):
    freqs = _word_freqs(fx.load(TOK), CORPUS)
    model = student.unigram_model(student.initial_vocabulary(freqs, 300))
    for word, (tokens, score) in (("Hopefully", COURSE_HOPEFULLY), ("This", COURSE_THIS)):
        got = student.encode_word(word, model)
        expect.equal(list(got[0]), tokens, f"tokens of {word!r}")
        _close(got[1], score, f"score of {word!r}",
               likely=("start the table at score 1 as the course does, and keep the lowest total", "像课程一样从得分 1 开始，并保留最低的总分"))
    got = student.encode_word("Zebra", {"Z": 1.0, "e": 1.0, "b": 1.0, "a": 1.0})
    expect.equal((list(got[0]), got[1]), (["<unk>"], None), "a word with a character that is not in the model")
    # a+b+c, ab+c and a+bc all cost 3: the tie goes to the segmentation found first, a+bc
    got = student.encode_word("abc", {"a": 1.0, "b": 1.0, "c": 1.0, "ab": 2.0, "bc": 2.0})
    expect.equal((list(got[0]), got[1]), (["a", "bc"], 4.0), "segmentation of 'abc' when several cost the same",
                 likely=("on a tie keep the segmentation found first: update best[end] only for a strictly lower score",
                         "得分相同时保留先找到的切分：只有新得分严格更低时才更新 best[end]"))


@pytest.mark.grade(points=2, hint="loss = sum of freq * score(word); a token's score is how much the loss grows without it.",
                   hint_zh="损失 = freq * score(word) 之和；token 的得分是去掉它之后损失增加了多少。")
def test_loss_and_scores(student, reference, fx):
    freqs = _word_freqs(fx.load(TOK), CORPUS)
    model = reference.unigram_model(reference.initial_vocabulary(freqs, 300))
    _close(student.compute_loss(freqs, model), COURSE_LOSS, "loss of the initial model",
           likely=("weight each word's score by its frequency", "每个词的得分要乘以它的频率"))
    scores = student.compute_scores(freqs, model)
    expect.equal(sorted(scores), sorted(t for t in model if len(t) > 1), "tokens that get a score",
                 likely=("single characters are never removed, so they get no score", "单个字符永远不会被删除，所以没有得分"))
    for token, value in COURSE_SCORES.items():
        _close(scores[token], value, f"score of {token!r}")


@pytest.mark.grade(
    points=1,
    hint="Remove the 10% of tokens with the LOWEST scores, rebuild the model from the remaining frequencies, repeat.",
    hint_zh="删去得分最低的 10% 的 token，用剩下的频率重建模型，重复。")
def test_train_unigram_course(student, reference, fx):
    model = student.train_unigram(CORPUS, fx.ref(TOK))
    expect.true(len(model) <= 100, f"the final model has {len(model)} tokens, expected at most 100")
    got = student.unigram_tokenize("This is the Hugging Face course.", model, fx.ref(TOK))
    expect.equal(got, COURSE_TOKENS, "tokens of 'This is the Hugging Face course.'",
                 likely=("remove the tokens with the lowest scores, not the highest", "删除得分最低的 token，而不是最高的"))
    want = reference.train_unigram(CORPUS, fx.ref(TOK))
    expect.equal(sorted(model), sorted(want), "tokens of the final model")


@pytest.mark.grade(points=2, hint="Viterbi: for every end position keep the cheapest segmentation reaching it; then read it backwards.",
                   hint_zh="Viterbi：对每个结束位置保留到达它的最便宜切分；然后倒着读出 token。")
def test_viterbi_is_optimal(student, rng):
    @_explore(rng, 12)
    @given(case=_models())
    def check(case):
        model, words = case
        for word in words:
            tokens, score = student.encode_word(word, model)
            tokens = list(tokens)
            options = _segmentations(word, model)
            expect.true("".join(tokens) == word and all(t in model for t in tokens),
                        f"encode_word({word!r}) gave {tokens}, which is not a segmentation into tokens of the model")
            _close(score, 1 + sum(model[t] for t in tokens), f"score returned for {tokens} (1 + the sum of their scores)")
            _close(score, 1 + options[0][0], f"score of the best segmentation of {word!r} (the best is {options[0][1]})",
                   likely=("keep the LOWEST total at every position; update when the new score is smaller",
                           "在每个位置保留最低的总分；新得分更小时才更新"))
            if len(options) == 1 or options[1][0] - options[0][0] > 1e-9:
                expect.equal(tokens, _library_tokens(model, word), f"tokens of {word!r}, against 🤗 tokenizers' Unigram model")

    check()
