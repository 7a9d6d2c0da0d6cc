"""Tools > API server: runs ``scriptbatch serve`` as a child process of the app (the API has
its own process, so a busy API never slows the window), reports its address and its end."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from PyQt5.QtCore import QObject, QProcess, QProcessEnvironment, pyqtSignal

_ADDRESS = re.compile(r"https?://\S+")
STOP_GRACE_MS = 5000
KEEP_OUTPUT = 4000


class ApiServerViewModel(QObject):
    running_changed = pyqtSignal(bool)
    address_changed = pyqtSignal(str)  # the API's base URL once it listens, "" when stopped
    error_occurred = pyqtSignal(str)

    def __init__(
        self,
        data_dir: str,
        config_file: str,
        host: str,
        port: int,
        parent: QObject | None = None,
        *,
        python: str = sys.executable,
    ) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self._config_file = config_file
        self._python = python
        self.host = host
        self.port = port
        self.address = ""
        self._output = ""
        self._stopping = False
        self._process = QProcess(self)
        self._process.setProcessChannelMode(QProcess.MergedChannels)
        self._process.readyReadStandardOutput.connect(self._on_output)
        self._process.started.connect(lambda: self.running_changed.emit(True))
        self._process.finished.connect(self._on_finished)
        self._process.errorOccurred.connect(self._on_error)

    @property
    def is_running(self) -> bool:
        return self._process.state() != QProcess.NotRunning

    def start(self, host: str, port: int) -> None:
        if self.is_running:
            return
        self.host, self.port = host.strip() or "127.0.0.1", port
        self._output = ""
        self._stopping = False
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONIOENCODING", "utf-8")
        env.insert("PYTHONUNBUFFERED", "1")
        self._process.setProcessEnvironment(env)
        arguments = ["-m", "AppCode", "serve", "--data-dir", self._data_dir]
        if Path(self._config_file).is_file():  # no file yet = defaults, as in the app itself
            arguments += ["--config", self._config_file]
        arguments += ["--host", self.host, "--port", str(self.port)]
        self._process.start(self._python, arguments)

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM: it finishes requests in flight); kill it if it
        does not within a few seconds."""
        if not self.is_running:
            return
        self._stopping = True
        self._process.terminate()
        if not self._process.waitForFinished(STOP_GRACE_MS):
            self._process.kill()
            self._process.waitForFinished(STOP_GRACE_MS)

    def _on_output(self) -> None:
        text = bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace")
        self._output = (self._output + text)[-KEEP_OUTPUT:]
        if not self.address:
            found = _ADDRESS.search(self._output)
            if found:
                self.address = found.group(0).rstrip(").,")
                self.address_changed.emit(self.address)

    def _on_finished(self, code: int, _status: object) -> None:
        self.address = ""
        self.address_changed.emit("")
        self.running_changed.emit(False)
        if not self._stopping and code != 0:
            last = "\n".join(self._output.strip().splitlines()[-4:])
            self.error_occurred.emit(
                self.tr("The API server stopped (exit code {0}).").format(code)
                + (f"\n\n{last}" if last else "")
            )

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.FailedToStart:
            self.error_occurred.emit(
                self.tr("The API server could not start: {0}").format(self._process.errorString())
            )
