"""hfcourse: exercises and a sandboxed autograder for the Hugging Face NLP course."""

__version__ = "0.1.0"
