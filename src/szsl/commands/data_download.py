"""``szsl data download``: fetch, verify and unpack the official xlsa17 archive (resumable)."""

from __future__ import annotations


def add_parser(data_sub) -> None:
    from szsl.commands._common import add_quiet_arg
    from szsl.data.download import DEFAULT_URL, URL_ENV

    p = data_sub.add_parser("download", help="download the official xlsa17 archive and unpack <ROOT>/<DS>/ (resumable)")
    p.add_argument("--root", required=True, help="folder to unpack into: <ROOT>/<DS>/res101.mat, att_splits.mat, class lists")
    p.add_argument("--dataset", default=None, help="AWA1, AWA2, CUB, SUN or APY (case-insensitive); default: all five")
    p.add_argument("--url", default=None, help=f"archive URL (default ${URL_ENV} or {DEFAULT_URL})")
    p.add_argument(
        "--sha256", default=None,
        help="expected sha256 of the archive (checked before unpacking; default: the official release's, when szsl knows it)",
    )
    p.add_argument(
        "--no-verify", dest="verify", action="store_false",
        help="skip the sha256 check of the archive and the check of each dataset's Proposed Split against the release's (a mirror "
        "that repackages it or has its own split); the zip's own CRCs are still checked",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait on any network operation (default 60)")
    p.add_argument("--retries", type=int, default=3, help="resume attempts after a dropped connection (default 3)")
    p.add_argument("--keep-archive", action="store_true", help="keep <ROOT>/.xlsa17.zip after unpacking")
    add_quiet_arg(p, no_progress_alias=True)  # --no-progress: the deprecated name, still accepted
    p.set_defaults(func=run)


def run(args) -> int:
    from szsl.data.download import download_xlsa17

    folders = download_xlsa17(
        args.root,
        args.dataset,
        args.url,
        sha256=args.sha256,
        verify=args.verify,
        timeout=args.timeout,
        retries=args.retries,
        progress=not args.quiet,
        keep_archive=args.keep_archive,
    )
    for folder in folders:
        print(f"ready: {folder}")
    return 0
