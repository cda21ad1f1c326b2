/**
 * The lab's host tools keep the real tools' contract for what kubeha uses: flags, output formats
 * and exit codes, with state per host. Each runs on a real lab host through kubeha's SSH shell.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabHost } from '../../../lab/hosts';
import { processAlive } from '../../ssh/helpers';
import { createTestLab, type TestLab } from './helpers';

describe('lab host tools', () => {
  let lab: TestLab;
  let host: LabHost;
  let other: LabHost;
  const sh = (command: string) => lab.sh(host, command);
  /** Adds the pkgs.k8s.io repository and installs kubelet (already there after the apt test). */
  const installKubelet = async () => {
    await lab.shell.writeFile(lab.spec(host), '/etc/apt/keyrings/kubernetes-apt-keyring.gpg', 'key', 0o644);
    await lab.shell.writeFile(
      lab.spec(host),
      '/etc/apt/sources.list.d/kubernetes.list',
      'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.37/deb/ /\n',
      0o644,
    );
    const result = await sh('apt-get update && apt-get install -y --allow-change-held-packages --allow-downgrades kubelet=1.37.2-1.1');
    assert.equal(result.exitCode, 0, result.stderr);
  };

  before(async () => {
    lab = await createTestLab('tools');
    host = await lab.start('tools-1', '127.0.10.221');
    other = await lab.start('tools-2', '127.0.10.222');
  });
  after(async () => {
    await lab.close();
  });

  test('sysctl: fresh values, -n, unknown keys (exit 1), key=value, -w, -p file, --system', async () => {
    const fresh = await sh('sysctl -n net.ipv4.ip_forward');
    assert.deepEqual([fresh.stdout, fresh.exitCode], ['0\n', 0]);
    assert.equal((await sh('sysctl net.ipv4.ip_forward')).stdout, 'net.ipv4.ip_forward = 0\n');
    const unknown = await sh('sysctl -n net.bridge.bridge-nf-call-iptables');
    assert.equal(unknown.exitCode, 1);
    assert.equal(unknown.stderr.trim(), 'sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory');
    assert.equal((await sh('sysctl -e -n net.bridge.bridge-nf-call-iptables')).exitCode, 0);
    const set = await sh('sysctl -w net.ipv4.ip_forward=1');
    assert.equal(set.stdout, 'net.ipv4.ip_forward = 1\n');
    assert.equal((await sh('sysctl -n net/ipv4/ip_forward')).stdout, '1\n');
    assert.equal((await lab.sh(other, 'sysctl -n net.ipv4.ip_forward')).stdout, '0\n', 'each host has its own values');
    assert.equal((await sh('sysctl -w net.ipv4.ip_forward')).exitCode, 1);
    await lab.shell.writeFile(lab.spec(host), '/etc/sysctl.d/50-lab.conf', '# comment\nnet.ipv4.ip_forward = 0\n-net.no.such = 1\n', 0o644);
    const load = await sh('sysctl -p /etc/sysctl.d/50-lab.conf');
    assert.equal(load.exitCode, 0, load.stderr);
    assert.equal(load.stdout, 'net.ipv4.ip_forward = 0\n');
    await lab.shell.writeFile(lab.spec(host), '/etc/sysctl.d/60-lab.conf', 'net.ipv4.ip_forward = 1\nnet.no.such = 1\n', 0o644);
    const system = await sh('sysctl --system');
    assert.equal(system.exitCode, 1, 'an unknown key fails the run');
    assert.match(system.stdout, /^\* Applying \/etc\/sysctl\.d\/50-lab\.conf \.\.\.$/m);
    assert.ok(system.stdout.indexOf('50-lab.conf') < system.stdout.indexOf('60-lab.conf'));
    assert.match(system.stderr, /cannot stat \/proc\/sys\/net\/no\/such/);
    assert.equal((await sh('sysctl -n net.ipv4.ip_forward')).stdout, '1\n');
    assert.equal(
      (await sh('sysctl -p /etc/sysctl.d/missing.conf')).stderr.trim(),
      'sysctl: cannot open "/etc/sysctl.d/missing.conf": No such file or directory',
    );
  });

  test('modprobe and lsmod: loading br_netfilter brings its dependencies and the bridge sysctls', async () => {
    const bad = await sh('modprobe no_such_module');
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /^modprobe: FATAL: Module no_such_module not found in directory \/lib\/modules\//);
    assert.equal((await sh('modprobe br_netfilter')).exitCode, 0);
    const lsmod = (await sh('lsmod')).stdout.split('\n');
    assert.equal(lsmod[0], 'Module                  Size  Used by');
    assert.ok(lsmod.includes('br_netfilter           32768  0'), lsmod.join('\n'));
    assert.ok(lsmod.some((l) => /^bridge\s+\d+\s+1 br_netfilter$/.test(l)));
    assert.equal((await sh('sysctl -n net.bridge.bridge-nf-call-iptables')).stdout, '1\n');
    assert.equal((await sh('test -d /sys/module/br_netfilter && echo yes')).stdout, 'yes\n');
    assert.equal((await lab.sh(other, 'lsmod | grep -c br_netfilter')).stdout.trim(), '0', 'modules are per host');
    const busy = await sh('modprobe -r bridge');
    assert.equal(busy.exitCode, 1);
    assert.match(busy.stderr, /in use/);
  });

  test('dpkg-query, apt-get, apt-cache and apt-mark follow apt and dpkg', async () => {
    const missing = await sh(`dpkg-query -W -f='\${Status}' kubeadm`);
    assert.equal(missing.exitCode, 1);
    assert.equal(missing.stderr.trim(), 'dpkg-query: no packages found matching kubeadm');
    assert.equal((await sh(`dpkg-query -W -f='\${Status}' curl`)).stdout, 'install ok installed');
    assert.equal((await sh('apt-cache madison kubeadm')).stdout, '', 'no pkgs.k8s.io index before the repository is added');
    const unknown = await sh('apt-get install -y kubeadm');
    assert.equal(unknown.exitCode, 100);
    assert.match(unknown.stderr, /^E: Unable to locate package kubeadm$/m);

    // A repository whose keyring is missing is not signed for apt.
    await lab.shell.writeFile(
      lab.spec(host),
      '/etc/apt/sources.list.d/kubernetes.list',
      'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.37/deb/ /\n',
      0o644,
    );
    const unsigned = await sh('apt-get update');
    assert.equal(unsigned.exitCode, 100);
    assert.match(unsigned.stderr, /is not signed/);
    await lab.shell.writeFile(lab.spec(host), '/etc/apt/keyrings/kubernetes-apt-keyring.gpg', 'key', 0o644);
    const update = await sh('apt-get -o DPkg::Lock::Timeout=300 update -q');
    assert.equal(update.exitCode, 0, update.stderr);
    assert.match(update.stdout, /pkgs\.k8s\.io\/core:\/stable:\/v1\.37\/deb {2}InRelease/);

    const madison = (await sh('apt-cache madison kubeadm')).stdout.split('\n').filter(Boolean);
    assert.equal(madison[0], '   kubeadm | 1.37.5-1.1 | https://pkgs.k8s.io/core:/stable:/v1.37/deb  Packages');
    assert.equal(madison.length, 6);
    const picked = await sh(`apt-cache madison kubeadm | awk -v v=1.37.2 '{ if (index($3, v "-") == 1) { print $3; exit } }'`);
    assert.equal(picked.stdout.trim(), '1.37.2-1.1');

    const noVersion = await sh('apt-get install -y kubeadm=1.99.0-1.1');
    assert.equal(noVersion.exitCode, 100);
    assert.match(noVersion.stderr, /E: Version '1.99.0-1.1' for 'kubeadm' was not found/);
    const noYes = await sh('apt-get install kubectl=1.37.2-1.1');
    assert.equal(noYes.exitCode, 1, 'no -y: apt asks and aborts');
    const install = await sh('apt-get install -y -q kubelet=1.37.2-1.1 kubeadm=1.37.2-1.1 kubectl=1.37.2-1.1');
    assert.equal(install.exitCode, 0, install.stderr);
    assert.match(install.stdout, /The following NEW packages will be installed:\n {2}cri-tools kubeadm kubectl kubelet kubernetes-cni\n/);
    assert.equal((await sh(`dpkg-query -W -f='\${Version}' kubeadm`)).stdout, '1.37.2-1.1');
    assert.ok(existsSync(path.join(host.rootDir, 'etc/kubernetes/manifests')), 'the kubelet package creates /etc/kubernetes/manifests');
    const again = await sh('apt-get install -y kubeadm=1.37.2-1.1');
    assert.match(again.stdout, /kubeadm is already the newest version \(1\.37\.2-1\.1\)\./);

    assert.equal((await sh('apt-mark hold kubelet kubeadm kubectl')).stdout, 'kubelet set on hold.\nkubeadm set on hold.\nkubectl set on hold.\n');
    assert.equal((await sh('apt-mark hold kubelet')).stdout, 'kubelet was already set on hold.\n');
    assert.equal((await sh('apt-mark showhold')).stdout, 'kubeadm\nkubectl\nkubelet\n');
    assert.equal((await sh(`dpkg-query -W -f='\${Status}' kubeadm`)).stdout, 'hold ok installed');
    const held = await sh('apt-get install -y kubeadm=1.37.3-1.1');
    assert.equal(held.exitCode, 100);
    assert.match(held.stderr, /E: Held packages were changed and -y was used without --allow-change-held-packages\./);
    const allowed = await sh('apt-get install -y --allow-change-held-packages kubeadm=1.37.3-1.1');
    assert.equal(allowed.exitCode, 0, allowed.stderr);
    const down = await sh('apt-get install -y --allow-change-held-packages kubeadm=1.37.2-1.1');
    assert.equal(down.exitCode, 100);
    assert.match(down.stderr, /without --allow-downgrades/);
    assert.equal((await sh('apt-get install -y --allow-change-held-packages --allow-downgrades kubeadm=1.37.2-1.1')).exitCode, 0);

    const policy = (await sh('apt-cache policy kubeadm')).stdout;
    assert.match(policy, /^kubeadm:\n {2}Installed: 1\.37\.2-1\.1\n {2}Candidate: 1\.37\.5-1\.1\n {2}Version table:\n/);
    assert.match(policy, /^ \*\*\* 1\.37\.2-1\.1 500$/m);
    assert.equal((await sh('apt-mark unhold kubeadm')).stdout, 'Canceled hold on kubeadm.\n');
    assert.equal((await sh(`dpkg-query -W -f='\${Status}' kubeadm`)).stdout, 'install ok installed');
    assert.equal((await lab.sh(other, 'dpkg-query -W kubeadm')).exitCode, 1, 'packages are per host');
  });

  test('containerd: the package creates /etc/containerd and the binary prints its default config', async () => {
    const before = await sh('containerd config default');
    assert.equal(before.exitCode, 127, 'no binary before the package');
    assert.equal((await sh('systemctl is-active containerd')).stdout, 'inactive\n');
    const install = await sh('apt-get install -y containerd');
    assert.equal(install.exitCode, 0, install.stderr);
    assert.ok(existsSync(path.join(host.rootDir, 'etc/containerd')));
    const config = await sh('containerd config default');
    assert.equal(config.exitCode, 0);
    assert.match(config.stdout, /^ {12}SystemdCgroup = false$/m);
    assert.match(config.stdout, /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\.options\]/);
    assert.equal((await sh('systemctl is-active containerd; systemctl is-enabled containerd')).stdout, 'active\nenabled\n', "Debian's postinst starts it");
  });

  test('systemctl: unknown units, enable/disable, is-enabled, is-active, status, daemon-reload', async () => {
    const missing = await sh('systemctl start nosuch');
    assert.equal(missing.exitCode, 5);
    assert.equal(missing.stderr.trim(), 'Failed to start nosuch.service: Unit nosuch.service not found.');
    const notEnabled = await lab.sh(other, 'systemctl is-enabled kubelet');
    assert.equal(notEnabled.exitCode, 1);
    assert.equal(notEnabled.stderr.trim(), 'Failed to get unit file state for kubelet.service: No such file or directory');
    await installKubelet();
    const disabled = await sh('systemctl is-enabled kubelet');
    assert.deepEqual([disabled.stdout, disabled.exitCode], ['disabled\n', 1]);
    const enable = await sh('systemctl enable kubelet');
    assert.equal(enable.exitCode, 0);
    assert.match(enable.stderr, /Created symlink \/etc\/systemd\/system\/multi-user\.target\.wants\/kubelet\.service/);
    assert.deepEqual([(await sh('systemctl is-enabled kubelet')).stdout, (await sh('systemctl is-active kubelet')).exitCode], ['enabled\n', 3]);
    const status = await sh('systemctl status kubelet');
    assert.equal(status.exitCode, 3);
    assert.match(status.stdout, /Loaded: loaded \(\/lib\/systemd\/system\/kubelet\.service; enabled; preset: enabled\)/);
    assert.match(status.stdout, /Active: inactive \(dead\)/);
    assert.equal((await sh('systemctl daemon-reload')).exitCode, 0);
    assert.equal((await sh('systemctl is-enabled systemd-modules-load')).stdout, 'static\n');
  });

  test('systemctl start kubelet runs the kubelet under a supervisor that restarts it; stop ends both', async () => {
    // A stand-in kubelet (the lab's own is another part of the lab): records its arguments and sleeps.
    const fakeBin = path.join(lab.labDir, 'fake-bin');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(path.join(fakeBin, 'kubelet'), `#!/bin/sh\necho "$@" > ${host.labDir}/kubelet.args\nexec sleep 300\n`);
    chmodSync(path.join(fakeBin, 'kubelet'), 0o755);
    writeFileSync(path.join(lab.labDir, 'state.json'), JSON.stringify({ settings: { unitRestartSeconds: 0.2 } }));
    await installKubelet();
    const start = await sh(`KUBEHA_LAB_BIN=${fakeBin} systemctl enable --now kubelet`);
    assert.equal(start.exitCode, 0, start.stderr);
    const units = () =>
      JSON.parse(readFileSync(path.join(host.labDir, 'units.json'), 'utf8')).units.kubelet as { main?: { pid: number }; supervisor?: { pid: number } };
    const waitMain = async (not?: number) => {
      for (let i = 0; i < 100; i++) {
        const main = units().main?.pid;
        if (main && main !== not && processAlive(main)) return main;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail('the kubelet did not (re)start');
    };
    const first = await waitMain();
    assert.equal((await sh('systemctl is-active kubelet')).stdout, 'active\n');
    assert.match(
      readFileSync(path.join(host.labDir, 'kubelet.args'), 'utf8'),
      /--kubeconfig=\/etc\/kubernetes\/kubelet\.conf --config=\/var\/lib\/kubelet\/config\.yaml/,
    );
    process.kill(first, 'SIGKILL');
    const second = await waitMain(first);
    assert.notEqual(second, first, 'restarted like Restart=always');
    const supervisor = units().supervisor?.pid as number;
    const stop = await sh('systemctl stop kubelet');
    assert.equal(stop.exitCode, 0, stop.stderr);
    assert.equal(processAlive(second), false);
    assert.equal(processAlive(supervisor), false);
    assert.deepEqual([(await sh('systemctl is-active kubelet')).stdout, (await sh('systemctl is-active kubelet')).exitCode], ['inactive\n', 3]);
  });

  test('curl serves only the pkgs.k8s.io key (as a host without internet would) and gpg dearmors it', async () => {
    const key = await sh(
      'curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.37/deb/Release.key | gpg --dearmor --batch --yes -o /etc/apt/keyrings/test.gpg && test -s /etc/apt/keyrings/test.gpg && echo ok',
    );
    assert.equal(key.stdout, 'ok\n', key.stderr);
    assert.ok(existsSync(path.join(host.rootDir, 'etc/apt/keyrings/test.gpg')));
    const offline = await sh('curl -fsSL https://example.com/');
    assert.equal(offline.exitCode, 6);
    assert.equal(offline.stderr.trim(), 'curl: (6) Could not resolve host: example.com');
    const local = await sh(`curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:1/ ; echo " $?"`);
    assert.match(local.stdout.trim(), / 7$/, 'loopback requests go to the real curl (connection refused: 7)');
  });

  test("swapon shows no swap on a lab host (never the machine's)", async () => {
    assert.deepEqual([(await sh('swapon --show --noheadings')).stdout, (await sh('swapon --show')).exitCode], ['', 0]);
    assert.equal((await sh('swapoff -a')).exitCode, 0);
  });
});
