# The two commands a newcomer needs: `make demo` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WIDGET_OUT := flask_hms_webcall/static/widget.js
WIDGET_SRC := $(wildcard widget/src/*.js) widget/build.mjs widget/package.json widget/package-lock.json

.PHONY: help venv widget demo test test-py test-js lint bench dist clean

help:
	@echo "make demo   run the example app on the offline sandbox"
	@echo "make test   lint, build the widget, run JS and Python tests (browser and Redis tests included)"
	@echo "make dist   build the widget, then the wheel and sdist"
	@echo "make bench  print the benchmark figures"

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,redis,sandbox]'
	touch $@

venv: $(STAMP)

widget/node_modules/.package-lock.json: widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund

$(WIDGET_OUT): widget/node_modules/.package-lock.json $(WIDGET_SRC)
	cd widget && npm run --silent build

widget: $(WIDGET_OUT)

demo: venv widget
	$(PY) -m example_app

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-js: widget
	cd widget && npm test

# pytest runs in a private network namespace when this machine allows one (root, Linux): WebRTC and every
# server stay on loopback and nothing can leave. Elsewhere it runs as is.
test-py: venv widget
	sh tests/isolated.sh $(abspath $(VENV))/bin/python -m pytest $(PYTEST_ARGS)

test: lint test-js test-py

bench: venv widget
	$(PY) benchmarks/widget_size.py

dist: venv widget
	$(PY) -m pip install --quiet build
	$(PY) -m build

clean:
	rm -rf build dist *.egg-info flask_hms_webcall/static/*.js flask_hms_webcall/static/*.map tests/artifacts
