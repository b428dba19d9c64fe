"""A throwaway Request Tracker 5 on loopback for the connector tests.

Debian's `request-tracker5` lays RT out as: code in /usr/share/request-tracker5/lib, the
standalone server in /usr/share/request-tracker5/libexec/rt-server, the setup tool in
/usr/sbin/rt-setup-database, site configuration in /etc/request-tracker5/RT_SiteConfig.pm
plus RT_SiteConfig.d/*.pm, and its state in /var/lib and /var/cache/request-tracker5. None
of that is touched here: RT reads the site configuration named by RT_SITE_CONFIG (and the
snippets in RT_SITE_CONFIG_DIR), so each instance gets its own file that points the SQLite
database, the var folder, Mason's cache and the sessions into a temp folder, and sends its
mail into an mbox file there. `rt-setup-database --action init` creates the schema and the
initial data (the `root` user, password `password`); `rt-server` (Plack, Starlet) serves the
web UI and REST 2.0 on 127.0.0.1 at a free port. REST 2.0 takes HTTP basic auth for any user
with a password, or `Authorization: token ...` for an RT::AuthToken.

`make rt` installs the packages; without them, `rt_server()` yields None.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx

from helpers import free_port

RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
RT_SETUP = Path("/usr/sbin/rt-setup-database")
ROOT_PASSWORD = "password"  # RT's initial data gives root this password

_SITE_CONFIG = """\
Set($rtname, 'copilot-test');
Set($Organization, 'copilot-test');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{base}/var/rt.db');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebPath, '');
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($CorrespondAddress, 'support@copilot-test.invalid');
Set($CommentAddress, 'comment@copilot-test.invalid');
Set($LogToSyslog, undef);
Set($LogToFile, 'warning');
Set($LogDir, '{base}/log');
Set($LogToFileNamed, 'rt.log');
Set($LogToSTDERR, 'error');
Set($MailCommand, 'mbox');
Set($HTMLFormatter, 'core');
Set($Timezone, 'UTC');
$RT::VarPath = '{base}/var';
$RT::MasonDataDir = '{base}/mason';
$RT::MasonSessionDir = '{base}/sessions';
1;
"""


def rt_installed() -> bool:
    return RT_SERVER.is_file() and RT_SETUP.is_file()


@dataclass
class RTInstance:
    url: str
    base: Path
    user: str = "root"
    password: str = ROOT_PASSWORD
    setup_s: float = 0.0
    start_s: float = 0.0

    def client(self, user: str | None = None, password: str | None = None) -> httpx.Client:
        """An httpx client on REST 2.0 as `user` (default root), for the tests' own calls."""
        return httpx.Client(base_url=f"{self.url}/REST/2.0", timeout=30,
                            auth=(user or self.user, password if password is not None else self.password))

    def log(self) -> str:
        parts = []
        for name in ("log/rt.log", "server.out"):
            path = self.base / name
            if path.is_file():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


@contextmanager
def rt_server(initialdata: str | None = None, timeout_s: float = 300) -> Iterator[RTInstance | None]:
    """A fresh RT with its own SQLite database on 127.0.0.1; stopped and removed afterwards.
    `initialdata`: Perl in RT's initialdata format (@Users, @Groups, @Members, @Queues, @ACL,
    @Final...) inserted before the server starts; the environment variable RT_TEST_BASE
    names the instance's folder there. Yields None when RT is not installed."""
    if not rt_installed():
        yield None
        return
    base = Path(tempfile.mkdtemp(prefix="copilot-rt-"))
    for sub in ("var", "log", "mason", "sessions", "RT_SiteConfig.d"):
        (base / sub).mkdir()
    port = free_port()
    config = base / "RT_SiteConfig.pm"
    config.write_text(_SITE_CONFIG.format(base=base, port=port), encoding="utf-8")
    env = {**os.environ, "RT_SITE_CONFIG": str(config), "RT_SITE_CONFIG_DIR": str(base / "RT_SiteConfig.d")}
    env.pop("PERL5LIB", None)
    t0 = time.monotonic()
    setup = subprocess.run([str(RT_SETUP), "--action", "init", "--skip-create", "--dba-password", ""],
                           env=env, cwd=base, capture_output=True, text=True, timeout=timeout_s)
    if setup.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"rt-setup-database failed ({setup.returncode}): {(setup.stderr or setup.stdout)[-2000:]}")
    if initialdata:
        datafile = base / "initialdata"
        datafile.write_text(initialdata, encoding="utf-8")
        seed = subprocess.run([str(RT_SETUP), "--action", "insert", "--skip-create", "--dba-password", "",
                               "--datafile", str(datafile)], env={**env, "RT_TEST_BASE": str(base)}, cwd=base,
                              capture_output=True, text=True, timeout=timeout_s)
        problems = [line for line in (seed.stdout + seed.stderr).splitlines() if "[error]" in line or "[crit]" in line]
        if seed.returncode != 0 or problems:
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"rt-setup-database --action insert failed ({seed.returncode}): "
                               f"{chr(10).join(problems) or (seed.stderr or seed.stdout)[-2000:]}")
    setup_s = time.monotonic() - t0
    t0 = time.monotonic()
    with open(base / "server.out", "wb") as out:
        proc = subprocess.Popen([str(RT_SERVER), "--host", "127.0.0.1", "--port", str(port), "--max-workers", "2"],
                                env=env, cwd=base, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    instance = RTInstance(url=url, base=base, setup_s=setup_s)
    try:
        _wait_ready(instance, proc, timeout_s)
        instance.start_s = time.monotonic() - t0
        yield instance
    finally:
        _stop(proc)
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(rt: RTInstance, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rt-server exited with code {proc.returncode}: {rt.log()[-2000:]}")
        try:
            if httpx.get(f"{rt.url}/REST/2.0/rt", auth=(rt.user, rt.password), timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"rt-server did not answer at {rt.url} within {timeout_s:.0f} s: {rt.log()[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """The server and its workers (its own process group), TERM then KILL. Not SIGINT: run as
    root, Debian's rt-server answers SIGINT by chowning /var/lib/request-tracker5."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# The desk the connector tests use: two queues, a customer who writes through REST 2.0 (as
# a web self-service or mail gateway would), two agents (one a support lead), the rights a
# support desk grants, and an auth token for root (the copilot's RT user) written to
# <base>/token.
SEED = r"""
@Queues = ({ Name => 'Support', Description => 'First line' }, { Name => 'Billing', Description => 'Bills' },
           { Name => 'Supervisors', Description => 'Shift leads' });
@Users = (
  { Name => 'alice@example.com', EmailAddress => 'alice@example.com', Password => 'customer-pw-1', Privileged => 0 },
  { Name => 'ivan@example.ru', EmailAddress => 'ivan@example.ru', Password => 'customer-pw-2', Privileged => 0 },
  { Name => 'agent1', EmailAddress => 'agent1@desk.example', Password => 'agent-pw-1', Privileged => 1 },
  { Name => 'lead1', EmailAddress => 'lead1@desk.example', Password => 'lead-pw-1', Privileged => 1 },
);
@Groups = ({ Name => 'Support leads', Description => 'Supervisors' }, { Name => 'Agents', Description => 'First line' });
@Members = ({ Group => 'Support leads', Name => 'lead1' }, { Group => 'Agents', Name => 'agent1' },
            { Group => 'Agents', Name => 'lead1' });
@ACL = (
  { GroupDomain => 'SystemInternal', GroupType => 'Everyone', Right => ['CreateTicket', 'ReplyToTicket'] },
  { GroupDomain => 'RT::System-Role', GroupType => 'Requestor', Right => ['ShowTicket'] },
  { GroupDomain => 'UserDefined', GroupId => 'Agents',
    Right => ['SeeQueue', 'ShowTicket', 'ShowTicketComments', 'CreateTicket', 'ReplyToTicket', 'CommentOnTicket',
              'ModifyTicket', 'OwnTicket'] },
);
@Final = (sub {
  my $user = RT::User->new(RT->SystemUser);
  $user->Load('root');
  my $token = RT::AuthToken->new(RT->SystemUser);
  my ($id, $msg, $authstring) = $token->Create(Owner => $user->Id, Description => 'copilot tests');
  die "auth token: $msg" unless $id;
  open(my $fh, '>', "$ENV{RT_TEST_BASE}/token") or die "token file: $!";
  print $fh $authstring;
  close $fh;
});
"""


def token_of(rt: RTInstance) -> str:
    """The auth token SEED made for root."""
    return (rt.base / "token").read_text().strip()


# a two-article desk (one article per language) for the RT tests' suggestions to cite
AUTOPAY_KB = {
    "autopay-en.md": "---\nid: autopay-en\ntitle: Automatic payment\nlang: en\n---\n# Automatic payment\n\n"
                     "To turn on automatic payment for your monthly bill, open Payments in your account and choose "
                     "Autopay, then add a bank card. The bill is charged from the card on the first day of each "
                     "month. You can switch automatic payment off in the same section at any time.\n",
    "autopay-ru.md": "---\nid: autopay-ru\ntitle: Автоплатёж\nlang: ru\n---\n# Автоплатёж\n\n"
                     "Чтобы подключить автоплатёж для ежемесячного счёта, откройте раздел Платежи в личном кабинете, "
                     "выберите Автоплатёж и привяжите банковскую карту. Счёт списывается с карты первого числа "
                     "каждого месяца. Отключить автоплатёж можно в том же разделе в любой момент.\n",
}
