# Mirantis OCF resource agents: install, test, demo, bench.
# Run as root on Debian 12: `make check`, `make demo`.

PYTHON    ?= /usr/bin/python3
OCF_ROOT  ?= /usr/lib/ocf
DESTDIR   ?=
PROVIDER  := mirantis
AGENTDIR  := $(DESTDIR)$(OCF_ROOT)/resource.d/$(PROVIDER)
LIBDIR    := $(DESTDIR)$(OCF_ROOT)/lib/$(PROVIDER)
# (not the __pycache__ that the unit tests' imports of the agent files write)
AGENTS    := $(filter-out __pycache__,$(notdir $(wildcard agents/*)))
# lib/ is exactly what ships (the unit tests' doubles live in tests/unit)
LIBFILES  := $(wildcard lib/mirantis_ocf/*.py)
SBINDIR   ?= /usr/sbin
MANDIR    ?= /usr/share/man

# The version lives in setup.cfg; the Debian changelog's upstream part must agree.
PACKAGE     := mirantis-ocf-agents
VERSION     := $(shell sed -n 's/^version *= *//p' setup.cfg)
DEB_VERSION  = $(shell dpkg-parsechangelog -l packaging/debian/changelog -S Version)
# What the packages are built from (a copy: the build never writes into the checkout).
PKG_SOURCES := Makefile setup.cfg pyproject.toml README.md COPYING agents lib tools
# Package builds run make again: none of this make's flags or variables leak into them.
CLEAN_ENV   := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES

# Debian packages the agents and the test tiers need.
APT_PKGS := pacemaker corosync crmsh pacemaker-cli-utils resource-agents libxml2-utils \
            haproxy python3-pymysql python3-psutil python3-pytest python3-hypothesis mypy \
            pcs curl procps iproute2 util-linux mariadb-server galera-4 rsync socat lsof \
            neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent \
            neutron-metadata-agent rabbitmq-server openvswitch-switch dnsmasq-base \
            neutron-server keystone \
            debhelper dpkg-dev fakeroot rpm cpio man-db

.PHONY: all install uninstall deps check check-unit check-agents check-cluster check-faults golden \
        typecheck readme bench demo demo-stop demo-failover demo-powerloss clean deb rpm

all:
	@echo "targets: install check check-unit check-agents check-cluster check-faults golden bench demo demo-failover demo-powerloss demo-stop deb rpm"

# The meta-data is rendered once here, from the installed agent itself, so
# that `meta-data` costs no more than the interpreter's start (see runner.py).
# -B: no __pycache__ is written into $(DESTDIR) (a package must not ship one).
# The man pages, ocf_mirantis_<agent>(7) and q-agent-cleanup(8), are rendered
# from the agents' meta-data; uncompressed (dh_compress and brp-compress gzip them).
install:
	install -d -m 0755 $(AGENTDIR) $(LIBDIR)/mirantis_ocf $(LIBDIR)/metadata $(LIBDIR)/agents
	install -m 0644 $(LIBFILES) $(LIBDIR)/mirantis_ocf/
	@# each agent file as $(LIBDIR)/agents/<file>.py, run by a launcher of each name
	@# (tools/ocf-launcher.in): an imported file's bytecode is cached, a script's is not
	@for a in $(AGENTS); do \
	    real=$$(basename $$(readlink -f agents/$$a)); \
	    install -m 0644 agents/$$real $(LIBDIR)/agents/$$real.py || exit 1; \
	    sed "s|@AGENT@|$$real|g" tools/ocf-launcher.in > $(AGENTDIR)/$$a.tmp \
	        && chmod 0755 $(AGENTDIR)/$$a.tmp && mv -f $(AGENTDIR)/$$a.tmp $(AGENTDIR)/$$a || exit 1; \
	done
	install -d -m 0755 $(DESTDIR)$(SBINDIR)
	install -m 0755 tools/q-agent-cleanup $(DESTDIR)$(SBINDIR)/q-agent-cleanup
	@for a in $(AGENTS); do \
	    rm -f $(LIBDIR)/metadata/$$a.xml; \
	    env -i $(PYTHON) -B $(AGENTDIR)/$$a meta-data > $(LIBDIR)/metadata/$$a.xml.tmp \
	        && chmod 0644 $(LIBDIR)/metadata/$$a.xml.tmp \
	        && mv $(LIBDIR)/metadata/$$a.xml.tmp $(LIBDIR)/metadata/$$a.xml || exit 1; \
	done
	$(PYTHON) -B tools/agent-reference.py --man $(DESTDIR)$(MANDIR) > /dev/null

uninstall:
	rm -f $(addprefix $(AGENTDIR)/,$(AGENTS))
	rm -f $(DESTDIR)$(SBINDIR)/q-agent-cleanup
	rm -rf $(LIBDIR)
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/ocf_$(PROVIDER)_,$(addsuffix .7,$(AGENTS)))
	rm -f $(DESTDIR)$(MANDIR)/man8/q-agent-cleanup.8
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

check-faults: deps install
	$(PYTHON) -m pytest -p no:cacheprovider -m faults tests

# The agents and q-agent-cleanup are scripts: mypy reads each as a module
# (--scripts-are-modules); the neutron-* names are links to the quantum-* files.
TYPED_SCRIPTS := $(shell find agents -maxdepth 1 -type f | sort) tools/q-agent-cleanup
typecheck:
	mypy --strict lib/mirantis_ocf
	MYPYPATH=lib mypy --strict --scripts-are-modules $(TYPED_SCRIPTS)

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
	$(PYTHON) bench/galera.py --nodes 5
	$(PYTHON) bench/replication.py
	$(PYTHON) bench/election.py
	$(PYTHON) bench/election_load.py
	$(PYTHON) bench/summary.py

# The seed's whole configuration on the 3-node namespace cluster (tools/demo.py).
demo: deps install
	tools/demo.sh start

demo-failover:
	tools/demo.sh failover

demo-powerloss:
	tools/demo.sh powerloss

demo-stop:
	tools/demo.sh stop

# The Debian package, built by dpkg-buildpackage from a copy of the sources
# with packaging/debian as its debian/; the .deb lands in dist/.
deb:
	@test "$(DEB_VERSION)" != "" || { echo "no version in packaging/debian/changelog" >&2; exit 1; }
	@test "$(firstword $(subst -, ,$(DEB_VERSION)))" = "$(VERSION)" || { echo \
	    "packaging/debian/changelog says $(DEB_VERSION), setup.cfg $(VERSION): add an entry" >&2; \
	    exit 1; }
	rm -rf build/deb && mkdir -p build/deb/$(PACKAGE)-$(VERSION) dist
	tar -cf - --exclude=__pycache__ $(PKG_SOURCES) | tar -xf - -C build/deb/$(PACKAGE)-$(VERSION)
	cp -R packaging/debian build/deb/$(PACKAGE)-$(VERSION)/debian
	cd build/deb/$(PACKAGE)-$(VERSION) && $(CLEAN_ENV) dpkg-buildpackage -us -uc -b
	cp build/deb/$(PACKAGE)_$(DEB_VERSION)_all.deb dist/
	@echo "dist/$(PACKAGE)_$(DEB_VERSION)_all.deb"

# The RPM, built by rpmbuild with a private _topdir from a tarball of the same
# sources.  --nodeps: Debian's rpm database knows none of the BuildRequires.
# The man pages' date, the files' mtimes and the build time come from the
# Debian changelog, as in the .deb.
RPM_TOP := $(CURDIR)/build/rpm
SPEC    := packaging/rpm/$(PACKAGE).spec
rpm:
	@test "$$(sed -n 's/^Version: *//p' $(SPEC))" = "$(VERSION)" || { echo \
	    "$(SPEC): Version is not setup.cfg's $(VERSION)" >&2; exit 1; }
	@sed -n '/^%changelog/{n;p;q}' $(SPEC) | grep -q -- "- $(VERSION)-" || { echo \
	    "$(SPEC): the top %changelog entry is not $(VERSION): add one" >&2; exit 1; }
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES build/rpm/stage/$(PACKAGE)-$(VERSION) dist
	tar -cf - --exclude=__pycache__ $(PKG_SOURCES) | tar -xf - -C build/rpm/stage/$(PACKAGE)-$(VERSION)
	tar -czf build/rpm/SOURCES/$(PACKAGE)-$(VERSION).tar.gz -C build/rpm/stage $(PACKAGE)-$(VERSION)
	$(CLEAN_ENV) SOURCE_DATE_EPOCH=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Timestamp) \
	    rpmbuild -bb --nodeps --define "_topdir $(RPM_TOP)" \
	    --define "clamp_mtime_to_source_date_epoch 1" \
	    --define "use_source_date_epoch_as_buildtime 1" $(SPEC)
	cp build/rpm/RPMS/noarch/$(PACKAGE)-$(VERSION)-*.noarch.rpm dist/
	@ls dist/$(PACKAGE)-$(VERSION)-*.noarch.rpm

clean:
	rm -rf build dist *.egg-info .pytest_cache bench/results.json
	find . -name __pycache__ -prune -exec rm -rf {} +
