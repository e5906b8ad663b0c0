"""``xlperf serve``: the local web page (no Excel automation needed): a clerk uploads a workbook,
the bureau reviews batch results."""

from __future__ import annotations

import errno
import logging
import signal
import socket
from pathlib import Path
from typing import Any

import click

from xlperf.commands.common import limits_options, make_limits
from xlperf.commands.terminal import shown

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _exit_quietly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port), or a Chinese usage error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise click.UsageError(
                f"端口 {port} 已被占用（可能已经运行了一个 xlperf serve）；请用 --port 换一个端口，"
                "或用 --port 0 自动选择空闲端口"
            ) from exc
        raise click.UsageError(
            f"无法在 {HOST}:{port} 上监听：{exc.strerror or exc}；请用 --port 换一个端口"
        ) from exc
    sock.listen(128)
    return sock


@click.command(name="serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="本机端口（0 表示自动选择空闲端口）。服务只监听 127.0.0.1，其他电脑无法访问。",
)
@click.option("--open", "open_browser", is_flag=True, help="启动后用默认浏览器打开页面。")
@click.option(
    "--dir",
    "review_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="审阅模式：财政局的批量计分（xlperf batch -o）输出文件夹；只读。",
)
@click.option(
    "--smtp-config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="发送财政局所用的邮件设置 TOML 文件（默认与 xlperf submit 相同）。",
)
@limits_options
def serve(
    port: int, open_browser: bool, review_dir: Path | None, config_path: Path | None, **limits: Any
) -> None:
    """启动本机网页：上传自评表 → 校验、计分、报告、报送包、发送财政局；--dir 时审阅批量结果。

    \b
    页面地址含一次性访问令牌，只在终端显示；请用显示的完整链接打开（或加 --open）。
    上传的文件保存在本机的私有临时文件夹中，服务停止时删除。按 Ctrl+C 停止。

    \b
    例：
      xlperf serve --open
      xlperf serve --dir 汇总输出 --port 8800
    """
    import uvicorn

    from xlperf.web.app import create_app
    from xlperf.web.clerk import Workspace
    from xlperf.web.security import Secrets

    if review_dir is not None and not review_dir.is_dir():
        raise click.UsageError(
            f"--dir {review_dir}：{'不是文件夹' if review_dir.exists() else '找不到该文件夹'}；"
            "请指定 xlperf batch -o 的输出文件夹"
        )
    sock = bind(port)
    actual = int(sock.getsockname()[1])
    keys = Secrets(port=actual, host=HOST)
    workspace = Workspace(make_limits(**limits), config_path=config_path)
    app = create_app(keys, workspace, review_dir.resolve() if review_dir is not None else None)
    click.echo(f"xlperf 网页已启动：{keys.url('/')}")
    if review_dir is not None:
        click.echo(f"审阅页面：{keys.url('/review')}（文件夹 {shown(review_dir.resolve())}，只读）")
    click.echo("请用上面的完整链接打开（链接中含访问令牌，勿转发）。按 Ctrl+C 停止服务。")
    if open_browser:
        import webbrowser

        webbrowser.open(keys.url("/review" if review_dir is not None else "/"))
    # a stop (Ctrl+C, SIGTERM) waits at most 1 s for open requests — a half-sent upload included —
    # then cancels them, so the server ends within 2 s and removes its temporary folder below
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=1,
    )
    # the upload handler says in Chinese what a cancelled upload was; uvicorn's English line is dropped
    logging.getLogger("uvicorn.error").addFilter(
        lambda record: "timeout graceful shutdown exceeded" not in record.getMessage()
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then raises the signal again with the handler
    # found at start: make that an ordinary exit, so the temporary folder is removed below.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C is how a server is stopped: not an interruption of work
        pass
    finally:
        workspace.close()
        sock.close()
        click.echo("xlperf 网页已停止，上传的临时文件已删除。")
