# Two commands for a fresh machine: `make sandbox` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_FLAGS := --disable-pip-version-check -q
STATE_DIR ?= .sandbox
REGIONS ?= 2
APT_PACKAGES := iproute2 iputils-ping iputils-arping nftables iptables conntrack tcpdump postgresql postgresql-contrib openvswitch-switch rabbitmq-server ethtool

.PHONY: setup system-packages sandbox sandbox-down test test-full lint-imports unit-test sandbox-test tempest clean

# Idempotent: a stamp file records that the venv matches pyproject/constraints.
setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# pip is quiet (-q) for the whole install; the echo says what to expect.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing Tricircle and the pinned OpenStack stack of constraints.txt"
	@echo "(Neutron 29, Keystone 30, openstacksdk, the openstack client; about 140"
	@echo "packages) into $(VENV): 1 to 3 minutes, and pip prints nothing meanwhile"
	@start=$$(date +%s); \
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[test]' 2>&1 | grep -v "is ignored: it is neither" || true; \
	echo "pip done in $$(( $$(date +%s) - start ))s"
	@# Neutron 29 still runs on eventlet, which warns on import that it is
	@# deprecated (EventletDeprecationWarning): harmless, hence -W ignore.
	$(PY) -W ignore -c "import neutron, tricircle"
	@touch $@

# A second "make sandbox" reuses a running sandbox (up --reuse) and runs
# the demo again; "make sandbox-down" stops it and keeps its logs.
sandbox: setup
	$(VENV)/bin/tricircle-sandbox up --reuse --regions $(REGIONS) --state-dir $(STATE_DIR)
	$(VENV)/bin/tricircle-sandbox demo --state-dir $(STATE_DIR)

sandbox-down:
	$(VENV)/bin/tricircle-sandbox down --state-dir $(STATE_DIR)

# make test leaves out the tests marked "full" (slow variants of cases
# other tests cover); make test-full runs every test.
test: setup lint-imports
	$(PY) -m pytest -ra --durations=15 -m "not full" tricircle/tests

test-full: setup lint-imports
	$(PY) -m pytest -ra tricircle/tests

# The package layers of pyproject.toml ([tool.importlinter]).
lint-imports: setup
	$(VENV)/bin/lint-imports

unit-test: setup
	$(PY) -m pytest -ra tricircle/tests/unit

sandbox-test: setup
	$(PY) -m pytest -ra tricircle/tests/sandbox

# tempest.api.network against the central Neutron behind a real Keystone
# (TARGET=plain: against a plain ML2 Neutron 29, the baseline). Prints
# "N passed, N failed, N skipped" and the failures by module; failing
# tests do not fail make (exit 3 from the tool), errors do.
TARGET ?= tricircle
tempest: setup
	$(VENV)/bin/tricircle-sandbox tempest --workspace .tempest/$(TARGET) \
	  $(if $(filter plain,$(TARGET)),--plain) $(TEMPEST_ARGS) || test $$? -eq 3

clean:
	rm -rf $(VENV) build *.egg-info .tempest .tempest-venv
