from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import checks  # noqa: F401  (registers the deploy checks)
        from accounts.resume import resume_after_sign_in

        user_logged_in.connect(resume_after_sign_in, dispatch_uid="haat-resume-after-sign-in")
