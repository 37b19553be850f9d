"""The pages' own words, in English and Russian (error texts come from bff.kernel.i18n)."""

from __future__ import annotations

from collections.abc import Callable

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "Loyalty",
        "skip": "Skip to content",
        "nav": "Sections",
        "offers": "Offers",
        "marketplace": "Gifts",
        "level": "My level",
        "history": "History",
        "rules": "Program rules",
        "all": "All",
        "filters": "Filter offers",
        "reward": "Reward",
        "percent": "% back, up to {cap}",
        "percent_uncapped": "% back",
        "terms": "Terms",
        "partner": "Partner",
        "activate": "Activate",
        "deactivate": "Turn off",
        "activated": "Activated",
        "sign_in": "Sign in",
        "sign_in_to_act": "Sign in to activate offers and take gifts.",
        "share": "Share",
        "close": "Close",
        "account": "Account",
        "no_offers": "No offers here yet.",
        "take": "Take for {price}",
        "unavailable": "Unavailable",
        "until": "until {date}",
        "current_level": "Your level",
        "next_level": "Next: {name}",
        "orders_to_go": "{count} more orders to {name}",
        "top_level": "You are at the top level.",
        "progress": "Progress to the next level",
        "perks": "Your perks",
        "no_perks": "No perks at this level.",
        "decay": "Without a new order, your level drops on {date}.",
        "postpone": "Postpone by a month",
        "no_history": "Nothing here yet.",
        "older": "Older",
        "expired_title": "Please sign in again",
        "expired_text": "This link has expired or was already used. Return to the app to "
        "open the page again.",
        "back_to_app": "Back to the app",
        "signed_out_title": "Sign in to see this page",
        "signed_out_text": "Your level, history and gifts open from the app once you are "
        "signed in.",
        "reserved": "reserved",
        "released": "released",
        "not_found": "This page does not exist.",
        "notice_activated": "The offer is activated.",
        "notice_deactivated": "The offer is turned off.",
        "notice_redeemed": "The gift is yours: show the order in the app.",
        "notice_postponed": "Your level's decay is postponed.",
        "rules_text": "Earn points with every order and with partners' offers. Points expire "
        "as shown in your history. Levels rise with completed orders and drop one step after "
        "a month without orders; once a level period you may postpone that by a month. Coins "
        "buy gifts in the marketplace; a gift is held until the restaurant confirms the order.",
    },
    "ru": {
        "app": "Лояльность",
        "skip": "Перейти к содержимому",
        "nav": "Разделы",
        "offers": "Предложения",
        "marketplace": "Подарки",
        "level": "Мой уровень",
        "history": "История",
        "rules": "Правила программы",
        "all": "Все",
        "filters": "Фильтр предложений",
        "reward": "Награда",
        "percent": "% возврата, не больше {cap}",
        "percent_uncapped": "% возврата",
        "terms": "Условия",
        "partner": "Партнёр",
        "activate": "Активировать",
        "deactivate": "Отключить",
        "activated": "Активировано",
        "sign_in": "Войти",
        "sign_in_to_act": "Войдите, чтобы активировать предложения и брать подарки.",
        "share": "Поделиться",
        "close": "Закрыть",
        "account": "Профиль",
        "no_offers": "Здесь пока нет предложений.",
        "take": "Взять за {price}",
        "unavailable": "Недоступно",
        "until": "до {date}",
        "current_level": "Ваш уровень",
        "next_level": "Следующий: {name}",
        "orders_to_go": "Ещё {count} заказов до уровня «{name}»",
        "top_level": "У вас высший уровень.",
        "progress": "Прогресс до следующего уровня",
        "perks": "Ваши привилегии",
        "no_perks": "На этом уровне привилегий нет.",
        "decay": "Без нового заказа уровень понизится {date}.",
        "postpone": "Отложить на месяц",
        "no_history": "Здесь пока ничего нет.",
        "older": "Раньше",
        "expired_title": "Войдите ещё раз",
        "expired_text": "Ссылка устарела или уже использована. Вернитесь в приложение, "
        "чтобы открыть страницу снова.",
        "back_to_app": "Вернуться в приложение",
        "signed_out_title": "Войдите, чтобы увидеть эту страницу",
        "signed_out_text": "Уровень, история и подарки открываются из приложения, когда вы вошли.",
        "reserved": "зарезервировано",
        "released": "возвращено из резерва",
        "not_found": "Такой страницы нет.",
        "notice_activated": "Предложение активировано.",
        "notice_deactivated": "Предложение отключено.",
        "notice_redeemed": "Подарок ваш: покажите заказ в приложении.",
        "notice_postponed": "Понижение уровня отложено.",
        "rules_text": "Получайте баллы за каждый заказ и за предложения партнёров. Срок "
        "действия баллов виден в истории. Уровень растёт с выполненными заказами и понижается "
        "на ступень через месяц без заказов; раз за период уровня это можно отложить на месяц. "
        "Монеты обмениваются на подарки; подарок резервируется, пока ресторан не подтвердит "
        "заказ.",
    },
}


def translator(locale: str) -> Callable[..., str]:
    words = STRINGS.get(locale, STRINGS["en"])

    def t(key: str, **params: object) -> str:
        text = words.get(key) or STRINGS["en"][key]
        return text.format(**params) if params else text

    return t
