"""A headless Chromium driven by selenium, for the dashboard tests.

Only Debian's packages are used: ``chromium`` and ``chromium-driver``
(``/usr/bin/chromium``, ``/usr/bin/chromedriver``, installed by
``.ci/run``). Selenium is given both paths, so its manager never tries
to download a browser or a driver. chromedriver starts in a session of
its own; at clean-up the browser is asked to quit and then the whole
process group (chromedriver and every Chromium process) is killed, so
no browser outlives its test even when quitting hangs.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from typing import Any

import fixtures

try:
    from selenium import webdriver
    from selenium.common.exceptions import (
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the reason is reported by find(); tests skip
    webdriver = Service = By = WebDriverWait = None
    StaleElementReferenceException = TimeoutException = None

#: Environment variables naming other binaries than Debian's.
CHROMIUM_ENV = 'PODIUM_TEST_CHROMIUM'
CHROMEDRIVER_ENV = 'PODIUM_TEST_CHROMEDRIVER'
#: Where screenshots go; a directory under the system's temporary
#: directory when unset. Kept after the test: they are its artefacts.
ARTEFACT_DIR_ENV = 'PODIUM_TEST_ARTEFACT_DIR'

#: Seconds any page load, script or WebDriver command may take.
COMMAND_TIMEOUT = 30
QUIT_TIMEOUT = 15.0

#: Flags for a root user on a machine without a network: no sandbox
#: (root), and none of Chromium's own connections to the outside.
CHROMIUM_FLAGS = (
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage', '--window-size=1400,1000',
)


def find() -> tuple[tuple[str, str] | None, str]:
    """``((chromium, chromedriver), '')`` or ``(None, why not)``."""
    if webdriver is None:
        return None, 'selenium is not installed (test-requirements.txt)'
    chromium = shutil.which(os.environ.get(CHROMIUM_ENV) or 'chromium')
    driver = shutil.which(os.environ.get(CHROMEDRIVER_ENV)
                          or 'chromedriver')
    if not chromium or not driver:
        return None, ('Chromium or chromedriver is not installed (Debian: '
                      'apt-get install chromium chromium-driver)')
    return (chromium, driver), ''


def artefact_dir() -> str:
    """The directory for test artefacts, created if needed."""
    path = os.environ.get(ARTEFACT_DIR_ENV) or os.path.join(
        tempfile.gettempdir(), 'podium-test-artefacts')
    os.makedirs(path, exist_ok=True)
    return path


__all__ = ['Browser', 'By', 'StaleElementReferenceException',
           'TimeoutException', 'WebDriverWait', 'artefact_dir', 'find']


class Browser(fixtures.Fixture):
    """A selenium ``driver`` for headless Chromium, killed at clean-up.

    :param binaries: ``(chromium, chromedriver)`` from :func:`find`.
    """

    def __init__(self, binaries: tuple[str, str]) -> None:
        super().__init__()
        self.chromium, self.chromedriver = binaries
        self.driver: Any = None

    def _setUp(self) -> None:
        profile = self.useFixture(fixtures.TempDir()).path
        self.log_path = os.path.join(profile, 'chromedriver.log')
        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f'--user-data-dir={profile}/profile')
        # The page's console, for failure messages (console_errors).
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        service = Service(
            executable_path=self.chromedriver, log_output=self.log_path,
            env=dict(os.environ, SE_OFFLINE='true'),
            popen_kw={'start_new_session': True})
        self.service = service
        self.addCleanup(self._kill)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(COMMAND_TIMEOUT)
        self.driver.set_script_timeout(COMMAND_TIMEOUT)
        self.addCleanup(self._quit)

    def _quit(self) -> None:
        # quit() talks to chromedriver over HTTP; a wedged browser must
        # not hold the test: _kill follows whatever happens here.
        quitter = threading.Thread(target=self.driver.quit, daemon=True)
        quitter.start()
        quitter.join(QUIT_TIMEOUT)

    def _kill(self) -> None:
        process = getattr(self.service, 'process', None)
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            process.wait(QUIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def console(self) -> list[str]:
        """What the page logged to its console since the last call."""
        try:
            return [entry['message']
                    for entry in self.driver.get_log('browser')]
        except Exception as exc:  # a failure message must not fail
            return [f'(console unavailable: {exc})']

    def set_basic_auth(self, header: str) -> None:
        """Send ``Authorization: header`` on every request of the page,
        as a browser does once its user answered the login prompt."""
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.driver.execute_cdp_cmd('Network.setExtraHTTPHeaders',
                                    {'headers': {'Authorization': header}})
