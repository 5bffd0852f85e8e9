"""``python -m eigen_autodiff``: the article's walkthrough."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
