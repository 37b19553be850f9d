"""Russian and English messages, picked from ``Accept-Language``."""

from __future__ import annotations

import enum
from typing import Any


class Locale(enum.StrEnum):
    """The languages the service speaks."""

    EN = "en"
    RU = "ru"


SUPPORTED = tuple(locale.value for locale in Locale)
DEFAULT_LOCALE = Locale.EN.value

MESSAGES: dict[str, dict[str, str]] = {
    "NOT_FOUND": {
        "en": "Nothing was found with this id.",
        "ru": "Ничего не найдено по этому идентификатору.",
    },
    "INVALID": {"en": "The value is not valid.", "ru": "Недопустимое значение."},
    "INVALID_AMOUNT": {
        "en": "The amount must be a whole number greater than zero.",
        "ru": "Сумма должна быть целым числом больше нуля.",
    },
    "ZERO_AMOUNT": {
        "en": "The correction amount must not be zero.",
        "ru": "Сумма корректировки не может быть нулевой.",
    },
    "INSUFFICIENT_FUNDS": {
        "en": "Not enough {currency}: {available} available, {requested} needed.",
        "ru": "Недостаточно средств ({currency}): доступно {available}, нужно {requested}.",
    },
    "VERSION_CONFLICT": {
        "en": "The balance changed (version {actual}, expected {expected}); reload and retry.",
        "ru": "Баланс изменился (версия {actual}, ожидалась {expected}); обновите и повторите.",
    },
    "IDEMPOTENCY_CONFLICT": {
        "en": "This idempotency key was already used for a different request.",
        "ru": "Этот ключ идемпотентности уже использован для другого запроса.",
    },
    "HOLD_NOT_ACTIVE": {
        "en": "The hold is already {status}.",
        "ru": "Резерв уже в статусе «{status}».",
    },
    "HOLD_EXPIRED": {
        "en": "The hold has expired.",
        "ru": "Срок резерва истёк.",
    },
    "CAPTURE_EXCEEDS_HOLD": {
        "en": "Cannot capture {requested}: the hold is for {held}.",
        "ru": "Нельзя списать {requested}: зарезервировано {held}.",
    },
    "CURRENCY_DISABLED": {
        "en": "The currency {currency} is not enabled in this program.",
        "ru": "Валюта {currency} не подключена в программе.",
    },
    "REASON_REQUIRED": {
        "en": "A reason is required (3 to 500 characters).",
        "ru": "Укажите причину (от 3 до 500 символов).",
    },
    "IDEMPOTENCY_KEY_INVALID": {
        "en": "The idempotency key must be 1 to 255 characters.",
        "ru": "Ключ идемпотентности должен содержать от 1 до 255 символов.",
    },
    "DISPLAY_NAME_INVALID": {
        "en": "The name must be 1 to 200 characters.",
        "ru": "Имя должно содержать от 1 до 200 символов.",
    },
    "INVALID_PATH": {
        "en": "The path must be a page under /webviews/.",
        "ru": "Путь должен вести на страницу внутри /webviews/.",
    },
    "INVALID_TOKEN": {
        "en": "This is not an FCM registration token.",
        "ru": "Это не токен регистрации FCM.",
    },
    "INVALID_TIMEZONE": {
        "en": "Unknown time zone; use an IANA name such as Europe/Moscow.",
        "ru": "Неизвестный часовой пояс; укажите имя IANA, например Europe/Moscow.",
    },
    "INVALID_RULE": {
        "en": "The segment rule is not valid: {reason}.",
        "ru": "Правило сегмента некорректно: {reason}.",
    },
    "INVALID_TEMPLATE": {
        "en": "A title or body template is not valid.",
        "ru": "Шаблон заголовка или текста некорректен.",
    },
    "INVALID_CAMPAIGN": {
        "en": "The campaign is not valid: {reason}.",
        "ru": "Кампания некорректна: {reason}.",
    },
    "NAME_TAKEN": {
        "en": "This name is already used.",
        "ru": "Это имя уже занято.",
    },
    "NOTHING_TO_POSTPONE": {
        "en": "Your level cannot decay, so there is nothing to postpone.",
        "ru": "Ваш уровень не может понизиться, откладывать нечего.",
    },
    "ALREADY_POSTPONED": {
        "en": "You have already postponed the decay of this level once.",
        "ru": "Вы уже откладывали понижение этого уровня.",
    },
    "INVALID_KEY": {
        "en": "A flag key is 2 to 64 lowercase letters, digits and underscores.",
        "ru": "Ключ флага: от 2 до 64 строчных латинских букв, цифр и подчёркиваний.",
    },
    "INVALID_ROLLOUT": {
        "en": "The rollout is a percentage from 0 to 100.",
        "ru": "Доля раскатки — процент от 0 до 100.",
    },
    "CODE_TAKEN": {
        "en": "Another rule already has this code.",
        "ru": "Правило с таким кодом уже есть.",
    },
    "INVALID_CODE": {
        "en": "A rule code is 2 to 64 lowercase letters, digits, - or _, and never changes.",
        "ru": "Код правила — от 2 до 64 строчных букв, цифр, - или _; его нельзя менять.",
    },
    "INVALID_RATE": {
        "en": "Per-amount rules need a step and points per step; percent rules 1 to 10000 "
        "basis points.",
        "ru": "Правилу «за сумму» нужны шаг и баллы за шаг; процентному — от 1 до 10000 "
        "базисных пунктов.",
    },
    "INVALID_WINDOW": {
        "en": "The end of the validity window must come after its start.",
        "ru": "Конец срока действия должен быть позже начала.",
    },
    "INVALID_EXPIRY": {
        "en": "Expiry after N days needs 1 to 3660 days; other policies take no days.",
        "ru": "Сгорание через N дней требует от 1 до 3660 дней; другим правилам дни не нужны.",
    },
    "INVALID_REWARD": {
        "en": "The value is out of range for this offer or partner.",
        "ru": "Значение вне допустимого диапазона для предложения или партнёра.",
    },
    "OFFER_INACTIVE": {"en": "This offer is switched off.", "ru": "Это предложение отключено."},
    "OFFER_NOT_STARTED": {
        "en": "This offer has not started yet.",
        "ru": "Это предложение ещё не началось.",
    },
    "OFFER_EXPIRED": {"en": "This offer has ended.", "ru": "Срок этого предложения истёк."},
    "OFFER_EXHAUSTED": {
        "en": "This offer's budget is used up.",
        "ru": "Бюджет этого предложения исчерпан.",
    },
    "NOT_TARGETED": {
        "en": "This offer is not available for your city or level.",
        "ru": "Это предложение недоступно в вашем городе или на вашем уровне.",
    },
    "ALREADY_ACTIVATED": {
        "en": "You have already activated this offer.",
        "ru": "Вы уже активировали это предложение.",
    },
    "NOT_ACTIVATED": {
        "en": "This offer is not activated.",
        "ru": "Это предложение не активировано.",
    },
    "LIMIT_REACHED": {
        "en": "You have used this offer as many times as it allows.",
        "ru": "Вы использовали это предложение максимальное число раз.",
    },
    "ORDER_NOT_FOUND": {
        "en": "No order with this id and brand is known.",
        "ru": "Заказ с таким номером и брендом неизвестен.",
    },
    "REFUND_EXCEEDS_ORDER": {
        "en": "The refund is larger than what is left of the order ({refundable} kopecks).",
        "ru": "Возврат больше остатка заказа ({refundable} коп.).",
    },
    "HOLD_NOT_CAPTURED": {
        "en": "Only a captured payment can be refunded; this one is {status}.",
        "ru": "Вернуть можно только списанную оплату; эта — {status}.",
    },
    "REFUND_EXCEEDS_CAPTURE": {
        "en": "At most {refundable} points of this payment can still be refunded.",
        "ru": "Из этой оплаты можно вернуть не больше {refundable} баллов.",
    },
    "CHECKOUT_CODE_REFUSED": {
        "en": "This checkout code is {why}: ask the customer to show a new one.",
        "ru": "Этот код оплаты {why}: попросите покупателя показать новый.",
    },
    "OVER_SPENDABLE": {
        "en": "At most {allowed} points may pay this order ({reason}).",
        "ru": "Этот заказ можно оплатить не больше чем {allowed} баллами ({reason}).",
    },
    "PAYMENT_NOT_FOR_ORDER": {
        "en": "These points were not held for this order.",
        "ru": "Эти баллы удержаны не для этого заказа.",
    },
    "INVALID_SHARE": {
        "en": "A share is from 0 to 10000 basis points (10000: the whole order).",
        "ru": "Доля — от 0 до 10000 базисных пунктов (10000 — весь заказ).",
    },
    "INVALID_POINT_VALUE": {
        "en": "A point is worth from 1 to 1000000 kopecks.",
        "ru": "Балл стоит от 1 до 1000000 копеек.",
    },
    "INVALID_MONEY_MINIMUM": {
        "en": "The part to pay in money is a whole number of kopecks, zero or more.",
        "ru": "Часть к оплате деньгами — целое число копеек, ноль или больше.",
    },
    "BALANCE_LIMIT": {
        "en": "This would take the wallet above its limit of {limit} points.",
        "ru": "Баланс превысил бы предел кошелька в {limit} баллов.",
    },
    "ACCRUAL_OVER_LIMIT": {
        "en": "Rule {rule} would accrue {points} points for this order, over the limit of "
        "{limit} per posting.",
        "ru": "Правило {rule} начислило бы за этот заказ {points} баллов, больше предела в "
        "{limit} за одно начисление.",
    },
    "LOCALE_UNSUPPORTED": {
        "en": "Supported locales: en, ru.",
        "ru": "Поддерживаемые языки: en, ru.",
    },
    "PRODUCT_UNAVAILABLE": {
        "en": "This gift cannot be taken right now.",
        "ru": "Этот подарок сейчас недоступен.",
    },
    "INVALID_PRICE": {
        "en": "The price must be a whole number from 1 to {maximum}.",
        "ru": "Цена должна быть целым числом от 1 до {maximum}.",
    },
    "INVALID_TITLE": {
        "en": "The title must not be empty or longer than {limit} characters.",
        "ru": "Название не может быть пустым или длиннее {limit} символов.",
    },
    # Ledger entries' reasons (bff.ledger.reasons); the English ones are stored as well.
    "LEDGER_POINTS_EXPIRED": {"en": "Points expired", "ru": "Баллы сгорели"},
    "LEDGER_HOLD_EXPIRED": {"en": "Hold expired", "ru": "Резерв истёк"},
    "LEDGER_GIFT": {"en": "Gift: {title}", "ru": "Подарок: {title}"},
    "LEDGER_GIFT_CONFIRMED": {"en": "Gift confirmed", "ru": "Подарок получен"},
    "LEDGER_GIFT_CANCELLED": {"en": "Gift cancelled", "ru": "Подарок отменён"},
    "LEDGER_LEVEL_REWARD": {
        "en": "Welcome to {level_en}",
        "ru": "Добро пожаловать на уровень «{level_ru}»",
    },
    "LEDGER_PARTNER_PAYMENT": {"en": "Paying at {partner}", "ru": "Оплата: {partner}"},
    "LEDGER_PARTNER_REFUND": {"en": "Refund from {partner}", "ru": "Возврат: {partner}"},
    "LEDGER_ORDER_PAYMENT": {"en": "Paying order {order}", "ru": "Оплата заказа {order}"},
    "LEDGER_ORDER": {"en": "Order {order}", "ru": "Заказ {order}"},
    "LEDGER_ORDER_NOT_PAID": {
        "en": "Order {order} not paid with points",
        "ru": "Заказ {order} оплачен не баллами",
    },
    "LEDGER_ORDER_CANCELLED": {"en": "Order {order} cancelled", "ru": "Заказ {order} отменён"},
    "LEDGER_ACCRUAL_REFUNDED": {"en": "Refund: {accrual}", "ru": "Возврат: {accrual}"},
    "LEDGER_OFFER_REVERSED": {"en": "Reversed: {offer}", "ru": "Отмена начисления: {offer}"},
    "LEDGER_ORDER_REFUNDED": {
        "en": "Order {order} refunded",
        "ru": "Возврат по заказу {order}",
    },
    "INVALID_IMAGE_URL": {
        "en": "The picture must be an HTTPS URL of at most 500 characters.",
        "ru": "Картинка должна быть HTTPS-ссылкой не длиннее 500 символов.",
    },
    "INVALID_TRANSLATION": {
        "en": "A translation names a field this item does not have, or is too long.",
        "ru": "Перевод содержит поле, которого у этого элемента нет, или слишком длинный.",
    },
    "LEDGER_RULE": {"en": "{title}", "ru": "{title}"},
    "LEDGER_IMPORTED": {
        "en": "Balance imported from the previous system",
        "ru": "Баланс перенесён из прежней программы",
    },
    "LEDGER_OFFER": {"en": "{offer}", "ru": "{offer}"},
    "PARTNER_CATEGORY_GROCERY": {"en": "Groceries", "ru": "Продукты"},
    "PARTNER_CATEGORY_BANK": {"en": "Banks", "ru": "Банки"},
    "PARTNER_CATEGORY_TELECOM": {"en": "Mobile and internet", "ru": "Связь и интернет"},
    "PARTNER_CATEGORY_INSURANCE": {"en": "Insurance", "ru": "Страхование"},
    "PARTNER_CATEGORY_CINEMA": {"en": "Cinema", "ru": "Кино"},
    "PARTNER_CATEGORY_COFFEE": {"en": "Coffee", "ru": "Кофейни"},
    "PARTNER_CATEGORY_DELIVERY": {"en": "Delivery", "ru": "Доставка"},
    "PARTNER_CATEGORY_TRAVEL": {"en": "Travel", "ru": "Путешествия"},
    "PARTNER_CATEGORY_FUEL": {"en": "Fuel", "ru": "Топливо"},
    "PARTNER_CATEGORY_PHARMACY": {"en": "Pharmacy", "ru": "Аптеки"},
    "PARTNER_CATEGORY_OTHER": {"en": "Other", "ru": "Другое"},
    "GIFT_WITHDRAWN": {"en": "No longer in the catalogue", "ru": "Больше не в каталоге"},
    "GIFT_STOPPED": {"en": "Not available right now", "ru": "Сейчас недоступен"},
    "PERK_FREE_DELIVERY_SLOT": {
        "en": "Free choice of delivery slot",
        "ru": "Бесплатный выбор времени доставки",
    },
    "PERK_FREE_DISH_SWAP": {"en": "Free dish swap", "ru": "Бесплатная замена блюда"},
    "PERK_PAY_FULLY_WITH_POINTS": {
        "en": "Pay the whole order with points",
        "ru": "Оплата всего заказа баллами",
    },
    "INVALID_CAP": {
        "en": "The maximum is a percentage in basis points from 1 to 10000.",
        "ru": "Максимум — процент в базисных пунктах от 1 до 10000.",
    },
    "INVALID_REASON": {
        "en": "Say why, in at most 500 characters.",
        "ru": "Укажите причину, не длиннее 500 символов.",
    },
    "UNKNOWN_CURRENCY": {
        "en": "There is no currency {currency}.",
        "ru": "Валюты {currency} нет.",
    },
}


def negotiate_locale(accept_language: str | None) -> str:
    """The best supported locale for an ``Accept-Language`` header (RFC 9110 q-values)."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in SUPPORTED and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


def message(code: str, locale: str, params: dict[str, Any] | None = None) -> str:
    """The message in ``locale``; a parameter given per language (``{"en": ..., "ru":
    ...}``, such as a gift's title) is taken in that language too."""
    templates = MESSAGES.get(code) or MESSAGES["INVALID"]
    template = templates.get(locale) or templates[DEFAULT_LOCALE]
    values = {name: _in_language(value, locale) for name, value in (params or {}).items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _in_language(value: Any, locale: str) -> Any:
    if isinstance(value, dict):
        return value.get(locale) or value.get(DEFAULT_LOCALE, "")
    return value
