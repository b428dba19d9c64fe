"""Sign-in (app.py), the pages' titles in the navigation, and a page refused to a role
(services.require_role). Looked up as "account.<key>". A refused sign-in's words
(wrong_password, wait, locked) are given by copilot.auth.SignIn.message, which reads them here."""

from __future__ import annotations

EN = {
    "app_title": "Support copilot",
    "language": "Language",
    "user_name": "User name",
    "password": "Password",
    "sign_in": "Sign in",
    "wrong_password": "Wrong user name or password.",
    "locked": "Too many wrong passwords: sign-in is locked for {minutes} min. "
              "Ask a supervisor if you have forgotten your password.",
    "wait": "Too many attempts: try again in {seconds} s.",
    "first_run": "First run: the demo accounts and their passwords are printed once in the terminal running the app.",
    "page_operator": "Operator panel",
    "page_review": "Review queue",
    "page_metrics": "Metrics",
    "page_mined": "Mined resolutions",
    "page_proposals": "Derived checks and rules",
    "page_instructions": "Instructions in the knowledge base",
    "role_operator": "operator",
    "role_supervisor": "supervisor",
    "role_admin": "admin",
    "role_nobody": "nobody",
    "page_for_role": "This page is for {role}s. You are signed in as {current}.",
}

RU = {
    "app_title": "Помощник поддержки",
    "language": "Язык",
    "user_name": "Имя пользователя",
    "password": "Пароль",
    "sign_in": "Войти",
    "wrong_password": "Неверное имя пользователя или пароль.",
    "locked": "Слишком много неверных паролей: вход заблокирован на {minutes} мин. "
              "Если вы забыли пароль, обратитесь к руководителю.",
    "wait": "Слишком много попыток: повторите через {seconds} с.",
    "first_run": "Первый запуск: демо-учётные записи и их пароли один раз выводятся в терминале, где запущено "
                 "приложение.",
    "page_operator": "Панель оператора",
    "page_review": "Очередь проверки",
    "page_metrics": "Метрики",
    "page_mined": "Найденные решения",
    "page_proposals": "Выведенные проверки и правила",
    "page_instructions": "Указания в базе знаний",
    "role_operator": "оператор",
    "role_supervisor": "руководитель",
    "role_admin": "администратор",
    "role_nobody": "никто",
    "page_for_role": "Эта страница — для роли «{role}». Вы вошли как: {current}.",
}
