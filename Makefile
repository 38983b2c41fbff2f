# Two commands for a newcomer: `make run` and `make test`. Both build .venv from the lock
# file when it is missing or older than requirements.lock / pyproject.toml (or this Makefile),
# then install this package into it (editable, no dependencies: the lock file has them all),
# so `.venv/bin/python -c 'import model'` works from any folder, and so do Dask schedulers and
# workers started with .venv/bin/dask.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-from-lock
SCENARIO ?= params/kharkiv_2022.toml
ARGS   ?=

.PHONY: run test bench app venv lock clean-venv

run: $(STAMP)
	$(PY) -m model run $(SCENARIO) $(ARGS)

test: $(STAMP)
	$(PY) -m ruff check model tests scripts
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) scripts/bench.py

# The what-if page on http://127.0.0.1:8050/ (PORT=N for another port); Ctrl-C stops it.
PORT ?= 8050
app: $(STAMP)
	$(PY) -m model app $(SCENARIO) --port $(PORT) $(ARGS)

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed, found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# this machine's pip config names local indexes that may not exist; hide only those warnings
	bash -o pipefail -c '$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }'
	bash -o pipefail -c '$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }'
	@touch $(STAMP)

# Re-resolve every dependency (after editing pyproject.toml) and pin the result.
lock:
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet --disable-pip-version-check ".[all]"
	{ echo "# Pinned versions of every package the model, its tests and its optional extras use."; \
	  echo "# Regenerate with: make lock   (resolves pyproject.toml's [all] extra in a clean venv)"; \
	  /tmp/lock-venv/bin/pip freeze --exclude border-surge; } > requirements.lock

clean-venv:
	rm -rf $(VENV)
