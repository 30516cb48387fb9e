"""Secrets for the secret_* tests, built from parts so no file holds one in one piece."""
from __future__ import annotations

from memvault_hooks.memory.secret_scan import Finding

# Built from parts so this file itself holds no scannable secret in one piece.
AWS = "AKIA" + "Q3EGTR7WZ5XJ2KLM"
GITHUB = "ghp_" + "x7Gk2LmP9qRs4TvW8yZa1BcD3eFh5JnQ6uVo"
SAMPLES = {
    "anthropic-key": "sk-ant-" + "api03-Xq8Lm2Zp9Rt4Vw7Yb1Nc5Df3Gh6Jk0Ms",
    "openai-key": "sk-proj-" + "Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7Qr9St1Uv",
    "github-token": GITHUB,
    "gitlab-token": "glpat-" + "Xy7Zw3Vu9Ts1Rq5Po2Nm",
    "slack-token": "xoxb-" + "123456789012-abcdefABCDEF1234",
    "aws-access-key": AWS,
    "age-secret-key": "AGE-SECRET-KEY-1" + "QYZ8XJ3RNU8Z4HW3A7PC4T0J5D6XQ2HJ0PJ6ZJ6RUZ8W9N6S5LQQDH7Q2K",
}
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
               "AAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACB\n-----END OPENSSH PRIVATE KEY-----")
KEYED = "Zr8Kq2Lm9Xv4Tn7P"  # high entropy, under a key named like a secret


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}
