# Mirantis OCF resource agents: install, test, demo, bench.
# Run as root on Debian 12: `make check`, `make demo`.

PYTHON    ?= /usr/bin/python3
OCF_ROOT  ?= /usr/lib/ocf
DESTDIR   ?=
PROVIDER  := mirantis
AGENTDIR  := $(DESTDIR)$(OCF_ROOT)/resource.d/$(PROVIDER)
LIBDIR    := $(DESTDIR)$(OCF_ROOT)/lib/$(PROVIDER)
AGENTS    := $(notdir $(wildcard agents/*))
LIBFILES  := $(wildcard lib/mirantis_ocf/*.py)
SBINDIR   := $(DESTDIR)/usr/sbin

# Debian packages the agents and the test tiers need.
APT_PKGS := pacemaker corosync crmsh pacemaker-cli-utils resource-agents libxml2-utils \
            haproxy python3-pymysql python3-psutil python3-pytest python3-hypothesis mypy \
            pcs curl procps iproute2 util-linux mariadb-server galera-4 rsync socat lsof \
            neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent \
            neutron-metadata-agent rabbitmq-server openvswitch-switch dnsmasq-base \
            neutron-server keystone

.PHONY: all install uninstall deps check check-unit check-agents check-cluster golden \
        typecheck readme bench demo demo-stop clean

all:
	@echo "targets: install check check-unit check-agents check-cluster golden bench demo demo-stop"

# The meta-data is rendered once here, from the installed agent itself, so
# that `meta-data` costs no more than the interpreter's start (see runner.py).
install:
	install -d -m 0755 $(AGENTDIR) $(LIBDIR)/mirantis_ocf $(LIBDIR)/metadata
	install -m 0644 $(LIBFILES) $(LIBDIR)/mirantis_ocf/
	install -m 0755 $(addprefix agents/,$(AGENTS)) $(AGENTDIR)/
	install -d -m 0755 $(SBINDIR)
	install -m 0755 tools/q-agent-cleanup $(SBINDIR)/q-agent-cleanup
	@for a in $(AGENTS); do \
	    rm -f $(LIBDIR)/metadata/$$a.xml; \
	    env -i $(PYTHON) $(AGENTDIR)/$$a meta-data > $(LIBDIR)/metadata/$$a.xml.tmp \
	        && chmod 0644 $(LIBDIR)/metadata/$$a.xml.tmp \
	        && mv $(LIBDIR)/metadata/$$a.xml.tmp $(LIBDIR)/metadata/$$a.xml || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(AGENTDIR)/,$(AGENTS))
	rm -f $(SBINDIR)/q-agent-cleanup
	rm -rf $(LIBDIR)
	-rmdir $(AGENTDIR) 2>/dev/null

# Install only what is missing, so a second run costs nothing.  The packages'
# maintainer scripts must not start their services (rabbitmq, openvswitch,
# keepalived, the neutron agents, mariadb...): the tests start their own.  A
# policy-rc.d that answers 101 ("action forbidden") is in place during the
# install, and whatever policy-rc.d was there before is put back afterwards.
POLICY_RC := /usr/sbin/policy-rc.d
deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	    | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    saved=; \
	    if [ -e $(POLICY_RC) ]; then saved=$$(mktemp) && cp -p $(POLICY_RC) "$$saved" || exit 1; fi; \
	    trap 'if [ -n "$$saved" ]; then mv -f "$$saved" $(POLICY_RC); else rm -f $(POLICY_RC); fi' EXIT; \
	    trap 'exit 130' INT TERM; \
	    printf '#!/bin/sh\nexit 101\n' > $(POLICY_RC) && chmod 0755 $(POLICY_RC) || exit 1; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	        --no-install-recommends $$missing; \
	fi

check: deps install
	$(PYTHON) -m pytest -p no:cacheprovider tests

check-unit:
	$(PYTHON) -m pytest -p no:cacheprovider -m unit tests

check-agents: deps install
	$(PYTHON) -m pytest -p no:cacheprovider -m agent tests

check-cluster: deps install
	$(PYTHON) -m pytest -p no:cacheprovider -m cluster tests

typecheck:
	mypy --strict lib/mirantis_ocf

# Regenerate the golden meta-data files after an intended change.
golden:
	@for a in $(AGENTS); do env -i $(PYTHON) agents/$$a meta-data > tests/unit/golden/$$a.xml; \
	    echo "tests/unit/golden/$$a.xml"; done

readme:
	$(PYTHON) tools/agent-reference.py --write

bench: deps install
	$(PYTHON) bench/run.py --agent $(OCF_ROOT)/resource.d/$(PROVIDER)/haproxy
	$(PYTHON) bench/network.py
	$(PYTHON) bench/galera.py

demo: deps install
	tools/demo.sh start

demo-stop:
	tools/demo.sh stop

clean:
	rm -rf build dist *.egg-info .pytest_cache bench/results.json
	find . -name __pycache__ -prune -exec rm -rf {} +
