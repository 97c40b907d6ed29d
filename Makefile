# The two commands a newcomer needs: `make demo` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WIDGET_OUT := flask_hms_webcall/static/widget.js
WIDGET_SRC := $(wildcard widget/src/*.js) widget/build.mjs widget/package.json widget/package-lock.json

.PHONY: help venv widget demo test test-py test-js lint typecheck-redis refresh-deps bench dist clean docs test-deps

help:
	@echo "make demo   run the example app on the offline sandbox"
	@echo "make test   lint, type-check, build the docs and the widget, run JS and Python tests (all of them)"
	@echo "            offline after its first run; a part: make test-py PYTEST_ARGS='tests/test_store.py'"
	@echo "make refresh-deps  fetch the newest redis-py again (make test type-checks against it, kept between runs)"
	@echo "make dist   build the widget, then the wheel and sdist"
	@echo "make test-deps  the Python suite at the declared dependency floors, then at the newest releases"
	@echo "make bench  print the benchmark figures"

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,redis,sandbox,sandbox-speech]'
	touch $@

venv: $(STAMP)

# The lock file alone: npm ci installs what it pins (a dependency changed in package.json changes it too), so
# an edit of package.json's scripts does not send make test to the registry.
widget/node_modules/.package-lock.json: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund

$(WIDGET_OUT): widget/node_modules/.package-lock.json $(WIDGET_SRC)
	cd widget && npm run --silent build

widget: $(WIDGET_OUT)

demo: venv widget
	$(PY) -m example_app

# Types too: mypy --strict on the whole package (its config is in pyproject.toml), and tsc on the widget's
# JSDoc-annotated sources (widget/tsconfig.json).
lint: venv widget/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory typecheck-redis
	cd widget && npm run --silent typecheck

# mypy twice more: against the lowest redis-py setup.cfg allows (it ships no types: with its typeshed stubs)
# and against the newest (typed inline), so a change in redis-py's types fails here before a user sees it.
# Each sits alone in a folder that PYTHONPATH puts before the venv's packages, where mypy looks first.
# The floor is installed again only when setup.cfg changes. The newest is fetched on the first run and kept,
# so that `make test` needs no package index after it; `make refresh-deps` fetches the newest again.
MYPY_REDIS := .venv-mypy-redis

$(MYPY_REDIS)/floor/.installed: setup.cfg constraints/floors.py | venv
	floor=$$($(PYTHON) constraints/floors.py | sed -n 's/^redis==//p') && test -n "$$floor" \
		&& $(PY) -m pip install --quiet --no-deps --upgrade --target $(MYPY_REDIS)/floor \
			"redis==$$floor" "types-redis==$$floor.*"
	touch $@

$(MYPY_REDIS)/newest/.installed: | venv
	$(PY) -m pip install --quiet --no-deps --upgrade --target $(MYPY_REDIS)/newest redis
	touch $@

typecheck-redis: venv $(MYPY_REDIS)/floor/.installed $(MYPY_REDIS)/newest/.installed
	for which in floor newest; do \
		PYTHONPATH=$(MYPY_REDIS)/$$which $(PY) -c 'import redis; print("mypy against redis-py", redis.__version__)' \
		&& PYTHONPATH=$(MYPY_REDIS)/$$which $(VENV)/bin/mypy --cache-dir .mypy_cache/redis-$$which || exit 1; \
	done

refresh-deps: venv
	rm -f $(MYPY_REDIS)/newest/.installed
	$(MAKE) --no-print-directory $(MYPY_REDIS)/newest/.installed

# node --test with a short report (widget/test-summary.mjs): a dot per test, failures in full, one total line.
test-js: widget
	cd widget && npm test --silent

# pytest runs in a private network namespace when this machine allows one (root, Linux): WebRTC and every
# server stay on loopback and nothing can leave. Elsewhere it runs as is.
# pytest-xdist spreads it over one worker per core (at most 4: a browser test runs Chromium, the example app
# and a sandbox at once). --dist loadfile: a test file runs on one worker, so a module-wide server (the
# deploy stack, the built packages) starts once and the snippets' fixed ports (5000, 7880) are not shared.
# (loadgroup would not do: pytest-xdist 3.8 marks a group by rewriting item._nodeid, which pytest 9 ignores.)
# PYTEST_WORKERS=0 runs it in one process (for --pdb, or to profile with --durations).
PYTEST_WORKERS ?= auto
PYTEST_XDIST = -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile

test-py: venv widget
	sh tests/isolated.sh $(abspath $(VENV))/bin/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

test: lint docs test-js test-py

bench: venv widget
	$(PY) benchmarks/widget_size.py
	$(PY) benchmarks/backend.py
	$(PY) benchmarks/speech_wer.py
	$(PY) benchmarks/challenge_solve.py
	sh tests/isolated.sh $(PY) benchmarks/call_start.py

# setup.py builds the widget itself when it is missing or stale (Node needed then); `widget` first keeps one
# place (make) in charge of npm ci. The sdist carries the built widget, so a wheel built from it needs no Node.
dist: venv widget
	$(PY) -m pip install --quiet 'build>=1.2'
	$(PY) -m build

# The Python suite without the browser and packaging tests, twice more: with every dependency at the floor
# setup.cfg declares (constraints/floors.py writes the constraints file from setup.cfg, so it cannot drift),
# and with every dependency at its newest release. Each in its own venv, kept between runs.
FLOORS := .venv-floors
NEWEST := .venv-newest
DEPS_PYTEST := -m "not browser and not packaging"

test-deps: widget
	test -x $(FLOORS)/bin/python || $(PYTHON) -m venv $(FLOORS)
	$(PYTHON) constraints/floors.py > $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/floors.txt -e '.[dev,redis,sandbox-speech]'
	sh tests/isolated.sh $(abspath $(FLOORS))/bin/python -m pytest $(PYTEST_XDIST) $(DEPS_PYTEST) $(PYTEST_ARGS)
	test -x $(NEWEST)/bin/python || $(PYTHON) -m venv $(NEWEST)
	$(NEWEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev,redis,sandbox-speech]'
	sh tests/isolated.sh $(abspath $(NEWEST))/bin/python -m pytest $(PYTEST_XDIST) $(DEPS_PYTEST) $(PYTEST_ARGS)

# The docs site in docs/_build/html. -W: any warning fails the build; -n: every cross-reference must resolve.
# MyST turns a link to a missing page or heading anchor into such a warning, so internal links are checked
# here. External URLs cannot be fetched offline: tests/test_docs_snippets.py checks them against a list.
docs: venv
	$(VENV)/bin/sphinx-build -W -n --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf build dist *.egg-info flask_hms_webcall/static/*.js flask_hms_webcall/static/*.map tests/artifacts
