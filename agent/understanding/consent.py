"""Consent at a gate: only an unambiguous yes *to that gate* approves.

The reading is closed-world: a message approves when every word of it belongs to an
approval ("yes", "go ahead", "list it" at the listing gate…) or to politeness around
one ("please", "thanks"). A question, a condition, a hedge, a negation, a change of
mind or a request for something else is never an approval, whatever word it starts
with. A message whose last clause refuses ("sure… wait, no, don't") is a refusal, and
so is the gate's action refused plainly ("nah, don't list it yet").

Over 500 lines (about 1,950): most of it is the phrase lists (yeses, each gate's own action words,
refusals, in the languages people write in), kept beside the rules that read them; the same
words in 27 more languages are data, in ``prompts/nlu/consent_words.yaml``.

Example::

    >>> read_consent("yep, go ahead please", "upload")
    'approve'
    >>> read_consent("ok, how much is that in dollars?", "purchase") is None
    True
    >>> read_consent("sure... wait, no, don't do it", "upload")
    'decline'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Literal

from prompts import load_yaml

Consent = Literal["approve", "decline"]

# Whole approvals, any gate ("go ahead", "yes please"); as word sequences.
_YES_PHRASES = (
    "on you go",
    "on ye go",
    "too right",
    "too easy",
    "good as gold",
    "beauty",
    "no shaking",
    "say less",
    "fire away",
    "steady",
    "ok steady",
    "na so",
    "can one",
    "ok can",
    "passt",
    "prima",
    "perfetto",
    "parfait",
    "beleza",
    "fechou",
    "sige",
    "ndiyo",
    "evet",
    "jasne",
    "aywa",
    "haan ji",
    "ji haan",
    "oke",
    "dong y",
    "duoc",
    "da",
    "lesgo",
    "let's gooo",
    "y",
    "ye",
    "yes",
    "yess",
    "yea",
    "yh",
    "yeh",
    "yeah",
    "yep",
    "yup",
    "ya",
    "yah",
    "ok",
    "okay",
    "okey",
    "k",
    "kk",
    "sure",
    "surely",
    "alright",
    "all right",
    "aight",
    "fine",
    "approve",
    "approved",
    "i approve",
    "confirm",
    "confirmed",
    "i confirm",
    "proceed",
    "please proceed",
    "go",
    "go ahead",
    "go on",
    "go for it",
    "do it",
    "do that",
    "just do it",
    "let's do it",
    "lets do it",
    "let's go",
    "lets go",
    "let's do this",
    "sounds good",
    "sounds great",
    "looks good",
    "lgtm",
    "perfect",
    "great",
    "absolutely",
    "definitely",
    "certainly",
    "of course",
    "affirmative",
    "agreed",
    "i agree",
    "agree",
    "correct",
    "right",
    "that's right",
    "thats right",
    "why_not",
    "def",
    "defo",
    "deffo",
    "bet",
    "yessir",
    "yas",
    "adelante",
    "vale",
    "mach das",
    "mach es",
    "mach mal",
    "vamos",
    "please do",
    "yes do it",
    "ship it",
    "sure thing",
    "fine by me",
    "all good",
    "looks right",
    "that's fine",
    "thats fine",
    "that works",
    "works for me",
    "good to go",
    "kar do",
    "haan kar do",
    "hazlo",
    "send it",
    "si",
    "sí",
    "claro",
    "dale",
    "oui",
    "d'accord",
    "vas-y",
    "vas y",
    "allez-y",
    "ja",
    "jawohl",
    "klar",
    "mach",
    "haan",
    "han",
    "haa",
    "ji",
    "haan ji",
    "theek hai",
    "thik hai",
    "sim",
    "pode fazer",
    "vai em frente",
    "mach weiter",
    "pode",
    "pode seguir",
    "iya",
    "oke",
    "boleh",
    "silakan",
    "setuju",
    "lanjut",
    "lanjutkan",
    "crack on",
    "lovely",
    "spot on",
    "va bene",
    "vai",
    "procedi",
    "lovely jubbly",
    "go ahead with it",
    "you can do it",
    "you can go ahead",
    "you can proceed",
    "you may proceed",
    "it's ok",
    "its ok",
    "it is ok",
    "is ok",
    "that's ok",
    "thats ok",
    "it's fine",
    "pode mandar",
    "manda ver",
    "pode mandar ver",
    "bora",
    "you have my authorisation",
    "you have my authorization",
    "you have my permission",
    "you have my approval",
    "you have my consent",
    "you have my go-ahead",
    "i authorise it",
    "i authorize it",
    "evet",
    "tamam",
    "olur",
    "hai",
    "ii desu",
    "ii yo",
    "haan bilkul",
    "accept",
    "accepted",
    "i accept",
    "that's a yes",
    "thats a yes",
    "it's a yes",
    "a yes from me",
    "that's a yes from me",
    "yes from me",
    "green light",
    "you've got the green light",
    "you have the green light",
    "you have my blessing",
    "make it so",
    "lets do this",
    "sounds good to me",
    "sounds great to me",
    "looks good to me",
    "fine with me",
    "ok with me",
    "okay with me",
    "ok by me",
    "aye",
    "roger",
    "roger that",
    "copy that",
    "heck yes",
    "hell yes",
    "hell yeah",
    "for sure",
    "totally",
    "indeed",
    "very well",
    "so be it",
    "as you wish",
    "do so",
    "proceed as planned",
    "i'm in",
    "count me in",
    "deal",
    "it's a deal",
    "no_problem",
    "no_objection",
    "no_worry",
    "all set",
    "looks great",
    "mhm",
    "yass",
    "ofc",
    "make it happen",
    "let's roll",
    "okie dokie",
    "okey dokey",
    "alrighty",
    "brilliant",
    "sorted",
    "bang on",
    "i'm sure",
    "im sure",
    # in the other languages people write in
    "genau",
    "ja genau",
    "d'acc",
    "siap",
    "zaroor",
    "sì",
    "certo",
    "certo va bene",
    "bien sûr",
    "bien sur",
    "on y va",
    "allons-y",
    "natürlich",
    "naturlich",
    "klar doch",
    "claro que sí",
    "claro que si",
    "por supuesto",
    "com certeza",
    "pode sim",
    "tentu",
    "oke lanjut",
    "theek hai kar do",
    "bilkul",
    "chalega",
    "chalo",
    # plain English said in more words, and as people write it in a second language
    "ok for me",
    "okay for me",
    "fine for me",
    "good for me",
    "is fine",
    "is good",
    "is fine for me",
    "is ok for me",
    "it's ok for me",
    "its ok for me",
    "it's fine for me",
    "you can do",
    "you can doing it",
    "can do",
    "yes do",
    "say less",
    "sí por favor",
    "si por favor",
    "oui s'il vous plaît",
    "oui s'il vous plait",
    "ja bitte",
    "sim por favor",
    "i consent",
    "consent given",
    "you're good to go",
    "youre good to go",
    "you are good to go",
    "happy to proceed",
    "happy to go ahead",
    "i'm happy for you to go ahead",
    "im happy for you to go ahead",
    "i'm happy for you to proceed",
    "i am happy for you to proceed",
    "i am happy for you to go ahead",
    "you may go ahead",
    "i would like you to proceed",
    "i'd like you to proceed",
    "i want you to proceed",
    "i would like you to go ahead",
    "i'd like you to go ahead",
    "please do go ahead",
    "do go ahead",
    "i agree to it",
    "i agree to that",
    "agree to it",
    "i accept it",
    "i accept that",
    "kar de",
    "karo",
    "ja graag",
    "graag",
    "ga je gang",
    "ga door",
    "ga maar",
    "doe maar",
    "doe het",
    "doe het maar",
    "prima",
    "akkoord",
    "is goed",
    "ja hoor",
    "devam",
    "devam et",
    "tabii",
    "tabi",
    "onaylıyorum",
    "olsun",
    "vâng",
    "dạ",
    "được",
    "đồng ý",
    "ừ",
    "làm đi",
    "tiếp tục",
    "oke gas",
    "gas aja",
    "gaskan",
    "ayo",
    "lanjut aja",
    "vai pure",
    "procedi pure",
    "fallo",
    "d'accordo",
    "perfetto",
    "hágalo",
    "procede",
    "pode ir",
    "manda",
    "beleza",
    # more languages, in the latin spellings people type them in where they have another script
    "sold",
    "tak",
    "jasne",
    "zgoda",
    "śmiało",
    "smialo",
    "да",
    "da",
    "давай",
    "давайте",
    "конечно",
    "хорошо",
    "ладно",
    "согласен",
    "davay",
    "konechno",
    "horosho",
    "hao",
    "hao de",
    "haode",
    "hao ba",
    "keyi",
    "ke yi",
    "mei wenti",
    "shi de",
    "na'am",
    "naam",
    "aywa",
    "tafaddal",
    "yalla",
    "ndiyo",
    "sawa",
    "endelea",
    "oo",
    "opo",
    "sige",
    "sige na",
    "go na",
    "joayo",
    "geurae",
    "geuraeyo",
    "onegai",
    "vous pouvez y aller",
    "tu peux y aller",
    "fire away",
    "fire ahead",
    "go on then",
    "grand",
    "do the needful",
    "please do the needful",
    "can",
    "can can",
    "ok can",
    "can lah",
    "no_wahala",
    "e don set",
    "ack",
    "acked",
    "نعم",
    "checkout",
    "let's rock",
    "lets rock",
    "let's rock and roll",
    "hit it",
    "make it rain",
    "yy",
    "i am agree",
    "i'm agree",
    "beautiful",
    "passt",
    "parfait",
    "perfecto",
    "está bien",
    "esta bien",
    "está perfecto",
    "はい",
    "好的",
    "好",
    "네",
    "예",
    "いいよ",
    "お願いします",
    *(
        f"{who} {how} for you to {act}"
        for who in ("i'm", "im", "i am", "we're", "we are")
        for how in ("happy", "content", "fine", "ok", "okay", "comfortable", "glad")
        for act in ("proceed", "go ahead")
    ),
)
# Approvals that name what they approve: only at that gate.
_GATE_PHRASES: dict[str, tuple[str, ...]] = {
    "upload": (
        "upload",
        "push it",
        "push it up",
        "send it up",
        "send it through",
        "commence upload",
        "commence the upload",
        "kick off the upload",
        "kick it off",
        "fire it off",
        "begin the upload",
        "beam it up",
        "chuck it up",
        "get it stored",
        "get it uploaded",
        "je valide",
        "je valide le téléversement",
        "upload genehmigt",
        "genehmigt",
        "zatwierdzam",
        "zatwierdzam upload",
        "yükle",
        "yükle gitsin",
        "tai len",
        "tai len di",
        "pakia",
        "pakia tu",
        "upload kar dijiye",
        "kar dijiye",
        "file upload kar dijiye",
        "appurodo shite",
        "appurodo shite kudasai",
        "eollyeo juseyo",
        "ga je gang",
        "ga je gang met uploaden",
        "lade die datei hoch",
        "lade die datei ruhig hoch",
        "upload it",
        "upload that",
        "upload the file",
        "store it",
        "pay",
        "pay it",
        "pay for it",
        "start",
        "start it",
        "start the upload",
        "start uploading",
        # the answer to "optimise first or upload as is?"
        "upload as is",
        "upload it as is",
        "upload as it is",
        "upload it as it is",
        "as is",
        "as it is",
        "upload anyway",
        "upload it anyway",
        "confirm the upload",
        "confirm upload",
        "súbelo",
        "subelo",
        "caricalo",
        "lade es hoch",
        "unggah",
        "upload karo",
        "upload kar do",
        "envia",
        "enviar",
        "pode enviar",
        "sube",
        "súbelo ya",
        "hochladen",
        "carica",
        "téléverse",
        "envoie",
        "yükle onu",
        "upload et",
        "tải lên",
        "tải lên đi",
        "upload aja",
        "uploaden",
        "upload maar",
        "pay for storage",
        "wgraj",
        "wgraj go",
        "wgraj to",
        "prześlij",
        "przeslij",
        "загружай",
        "загрузи",
        "загрузите",
        "zagruzhay",
        "zagruzi",
        "shangchuan",
        "shangchuan ba",
        "irfa'hu",
        "irfaahu",
        "i-upload mo na",
        "i-upload mo",
        "appuroodo shite",
        "appurōdo shite",
        "ne ollyeo juseyo",
        "ollyeo juseyo",
        "envoie-le",
        "lance l'envoi",
        "lancer l'envoi",
        "vous pouvez lancer l'envoi",
        "tu peux lancer l'envoi",
        "adelante con la subida",
        "sube el modelo",
        "sube el modelo a walrus",
        "súbelo a walrus",
        "pode fazer o upload",
        "faz o upload",
        "upload het",
        "upload het maar",
        "lad es hoch",
        "upload saja",
        "tu peux l'uploader",
        "télécharge-le",
        "téléverse-le",
        "téléversez-le",
        "wrzucaj",
        "wrzuć",
        "올려주세요",
        "올려 주세요",
        "ارفعه",
        "vous pouvez l'uploader",
        "アップロードしてください",
        "アップロードして",
        "上传吧",
        "上传",
        "업로드해 주세요",
        "업로드해",
    ),
    "listing": (
        "list",
        "list it",
        "go live with it",
        "take it live",
        "push it live",
        "roll it out",
        "flip the switch",
        "get it listed",
        "open it up for sale",
        "drop it on the market",
        "post it",
        "publica el anuncio",
        "publie l'annonce",
        "veröffentliche das angebot",
        "pubblica l'annuncio",
        "pode anunciar",
        "coloca à venda",
        "zet hem online",
        "zet hem maar online",
        "plaats de advertentie",
        "pasang",
        "pasang aja",
        "dang ban",
        "dang ban di",
        "iweke sokoni",
        "marketplace pe daal do",
        "deungnok hae juseyo",
        "vystavlyay",
        "post am for market",
        "list that",
        "list the model",
        "publish",
        "publish it",
        "sell it",
        "put it up",
        "make it live",
        "go live",
        "put it live",
        "publish the listing",
        "confirm the listing",
        "confirm listing",
        "make the listing",
        "create the listing",
        "pubblicalo",
        "mettilo in vendita",
        "pop it on the market",
        "put it on the market",
        "put it on the marketplace",
        "stick it on the market",
        "stick it on the marketplace",
        "put it up for sale",
        "put it in the shop",
        "put it in the shop window",
        "list them",
        "publish them",
        "list them all",
        "veröffentlichen",
        "veröffentliche es",
        "yayınla",
        "kōkai shite",
        "koukai shite",
        "publie-le",
        "publie",
        "publica",
        "publícalo ya",
        "publícalo",
        "pubblica",
        "publicar",
        "publiceer",
        "publiceer maar",
        "zet het online",
        "listele",
        "đăng bán",
        "đăng bán đi",
        "jual",
        "jual aja",
        "bech do",
        "opublikuj",
        "opublikuj go",
        "wystaw",
        "wystaw go",
        "публикуй",
        "опубликуй",
        "опубликуйте",
        "publikuy",
        "opublikuy",
        "fabu",
        "fabu ba",
        "shangjia ba",
        "anshurhu",
        "chapisha",
        "i-publish mo na",
        "i-publish mo",
        "ilista mo na",
        "shuppin shite",
        "ne deungnokhae juseyo",
        "deungnokhae juseyo",
        "publie-la",
        "terbitkan",
        "terbitkan saja",
        "mettez-le en vente",
        "mets-le en vente",
        "mettez-la en vente",
        "mets-la en vente",
        "ponlo a la venta",
        "ponla a la venta",
        "publícala",
        "pode listar",
        "pode publicar",
        "stell es online",
        "stell es ein",
        "zet het maar online",
        "publikasikan",
        "publikasikan saja",
        "let's go live with it",
        "stick it up",
        "انشره",
        "đăng lên",
        "đăng lên đi",
        "lets go live with it",
        "tu peux publier",
        "vous pouvez publier",
        "publier",
        "公開してください",
        "公開して",
        "发布吧",
        "发布",
        "게시해 주세요",
        "게시해",
    ),
    "purchase": (
        "snap it up",
        "lock it in",
        "seal the deal",
        "send the payment",
        "make the payment",
        "make it mine",
        "hit buy",
        "pull the trigger",
        "cop it",
        "chope it",
        "pay up",
        "get it bought",
        "buy the thing",
        "tu peux l'acheter",
        "kauf das modell",
        "kauf es",
        "kauf bestätigt",
        "compralo",
        "compralo subito",
        "procedi con l'acquisto",
        "compra aí",
        "rond de aankoop af",
        "satın al",
        "hemen satın al",
        "mua",
        "mua di",
        "inunue",
        "pay for am",
        "gie them the money",
        "buy",
        "buy it",
        "buy that",
        "purchase",
        "purchase it",
        "get it",
        "take it",
        "take my money",
        "je le prends",
        "je la prends",
        "lo compro",
        "cómpralo",
        "pode comprar",
        "compra",
        "ich kaufe es",
        "kaufen",
        "compralo pure",
        "beli",
        "beli saja",
        "confirm the purchase",
        "confirm purchase",
        "complete the purchase",
        "pay",
        "pay for it",
        "satin al",
        "kaitai",
        "katte",
        "i want it",
        "khareed lo",
        "le lo",
        "achète-le",
        "achete-le",
        "achète",
        "kup",
        "kup go",
        "kup to",
        "покупай",
        "купи",
        "купите",
        "pokupay",
        "kupi",
        "mai ba",
        "goumai ba",
        "ishtarihi",
        "nunua",
        "bilhin",
        "bilhin mo",
        "bilhin mo na",
        "kounyuu shite",
        "kōnyū shite",
        "ne sa juseyo",
        "sa juseyo",
        "koop het",
        "koop het maar",
        "procédez à l'achat",
        "procède à l'achat",
        "achetez-le",
        "achète-la",
        "adelante con la compra",
        "pay the seller",
        "charge me",
        "charge my wallet",
        "take the money",
        "make the purchase",
        "add it to my collection",
        "kharid lo",
        "check out",
        "koop maar",
        "kupuj",
        "購入します",
        "구매할게요",
        "اشتره",
        "اشترِه",
        "mua đi",
        "buy kar lo",
        "kar lo",
        "complete the transaction",
        "confirm the transaction",
        "購入してください",
        "購入して",
        "买吧",
        "买",
        "구매해 주세요",
        "구매해",
    ),
}
# The gate's own action as people ask for it, composed: a verb of that gate ("store"), what it
# acts on ("the model"), how ("now"); an approval verb and the gate's own noun ("approve the
# listing"); the noun approved ("upload confirmed"). Another gate's noun is never in them.
_ACTS = {
    "upload": ("upload", "store", "pay", "pay for", "start"),
    "listing": ("list", "publish", "sell", "release", "post"),
    "purchase": ("buy", "purchase", "get", "take", "pay", "pay for", "grab", "cop", "snag",
                 "order", "spend"),
}  # fmt: skip
_NOUNS = {
    "upload": ("upload", "storage", "storage cost", "storage fee", "storage payment", "payment",
               "fee", "cost", "charge", "storage charge"),
    "listing": ("listing", "sale", "publication"),
    "purchase": ("purchase", "payment", "order", "cost"),
}  # fmt: skip
# where the gate's action puts the model ("ship it to walrus", "get it on the market")
_WHERE = {
    "upload": ("on walrus", "to walrus", "onto walrus", "up", "up to walrus", "up on walrus",
               "through to walrus", "through", "up there", "to walrus storage"),
    "listing": ("on the marketplace", "on the market", "to the marketplace", "to the market",
                "on marketplace", "on market", "to marketplace", "to market",
                "on sale", "up for sale", "for sale", "live", "go live", "public", "online",
                "up there", "out there", "in the shop", "in the store"),
    "purchase": (),
}  # fmt: skip
# verbs that are the gate's action only with a place: "put it on walrus", "let it go live"
_PLACING = {
    "upload": (
        "put",
        "send",
        "ship",
        "push",
        "get",
        "pop",
        "stick",
        "save",
        "beam",
        "chuck",
        "fire",
        "throw",
    ),
    "listing": (
        "put",
        "get",
        "pop",
        "stick",
        "post",
        "make",
        "let",
        "send",
        "ship",
        "chuck",
        "throw",
        "push",
        "take",
        "drop",
    ),
    "purchase": (),
}
# the gate's action as a noun of doing: "proceed with buying this model"
_DOING = {
    "upload": ("uploading", "storing"),
    "listing": ("listing", "publishing", "selling"),
    "purchase": ("buying", "purchasing"),
}
_OBJECTS = ("", "it", "this", "that", "them", "the model", "the file", "my model", "the models",
            "the model file", "my model file", "the weights", "my weights", "that thing",
            "the thing", "this thing", "her",
            "that one", "this one", "that model", "this model", "my file", "that bad boy",
            "this bad boy", "the same", "am")  # fmt: skip
_HOW = ("", "now", "as is", "for me", "right away", "right now", "at the listed price",
        "at the price shown", "at the shown price", "as drafted", "as proposed", "as shown",
        "as it stands", "at that", "for that", "with those tags", "with these tags",
        "with the tags shown", "exactly like that", "just like that", "like that", "exactly as is",
        "exactly as shown", "with that title", "with the title shown", "with that title and those tags",
        "with that title and these tags", "with the title and tags shown")  # fmt: skip
_APPROVING = ("approve", "confirm", "accept", "authorise", "authorize", "proceed with", "consent to",
              "agree to", "go ahead with", "allow", "do")  # fmt: skip
_WANT = ("i want to", "i'd like to", "i would like to", "happy to", "i'm happy to", "i am happy to",
         "you can", "you may", "i agree to", "you have my approval to", "you have my permission to",
         "feel free to", "go ahead and", "go on and", "i want", "i consent to", "proceed to",
         "make we",
         *(f"{who} {how} for you to" for who in ("i'm", "im", "i am", "we're", "we are")
           for how in ("happy", "content", "fine", "ok", "okay", "comfortable", "glad")))  # fmt: skip
_APPROVED = ("approved", "confirmed", "accepted", "is approved", "is confirmed", "is fine",
             "is good", "looks good", "looks fine", "is ok", "ok", "okay", "looks great",
             "looks perfect", "looks right", "is great", "is perfect")  # fmt: skip


def _composed(gate: str) -> tuple[str, ...]:
    nouns = _NOUNS[gate]
    objects = (*_OBJECTS, *(f"the {n}" for n in nouns))
    acts = [
        " ".join(f"{a} {o} {h}".split())
        for a in _ACTS[gate]
        for o in objects
        for h in (*_HOW, *_WHERE[gate])
    ]
    placed = [f"{a} {o} {w}".replace("  ", " ") for a in _PLACING[gate] for o in objects
              for w in _WHERE[gate]]  # fmt: skip
    doing = [" ".join(f"{p} {d} {o} {w}".split()) for p in ("proceed with", "go ahead with")
             for d in _DOING[gate] for o in objects for w in ("", *_WHERE[gate])]  # fmt: skip
    approving = [
        f"{v} {o}"
        for v in _APPROVING
        for o in (
            *(f"{t} {n}" for n in nouns for t in ("the", "this", "that")),
            *(("it", "this", "that") if v != "do" else ()),
        )
    ]
    approved = [f"{t}{n} {a}" for n in nouns for a in _APPROVED for t in ("", "the ")]
    approving += [f"{v} {n}" for v in _APPROVING if v != "do" for n in nouns]  # "approve listing"
    # "proceed with the upload to walrus", "proceed with the listing as proposed"
    approving += [f"{v} the {n} {h}" for v in _APPROVING for n in nouns
                  for h in (*_HOW[1:], *_WHERE[gate])]  # fmt: skip
    # "yes, I want to upload it": the gate's own act, wanted
    wanted = [f"{w} {a} {o}".strip() for w in _WANT for a in _ACTS[gate] for o in objects]
    return (*acts, *placed, *doing, *approving, *approved, *wanted)


# Words that may surround an approval without changing it.
_FILLERS = frozenset(
    [
        "please",
        "pls",
        "plz",
        "thanks",
        "thx",
        "ty",
        "thank",
        "you",
        "now",
        "then",
        "right",
        "away",
        "sir",
        "mate",
        "cheers",
        "man",
        "bro",
        "dear",
        "ahead",
        "just",
        "cool",
        "nice",
        "good",
        "and",
        "bitte",
        "porfa",
        "svp",
        "already",
        "so",
        "well",
        "merci",
        "danke",
        "gracias",
        "grazie",
        "obrigado",
        "obrigada",
        "terima",
        "kasih",
        "shukriya",
        "i",
        "i'll",
        "i will",
        "we'll",
        "let's",
        "lets",
        "kindly",
        "hereby",
        "boss",
        "chief",
        "buddy",
        "pal",
        "dude",
        "friend",
        "o",
        "jare",
        "jor",
        "lah",
        "lor",
        "leh",
        "fr",
        "frfr",
        "y'all",
        "yall",
        "sharp",
        "only",
        "aja",
        "saja",
        "ji",
        "di",
        "wi",
        "understood",
        "onegaishimasu",
        "kudasai",
        "lütfen",
        "bhai",
        "lol",
        "very",
        "much",
        "pure",
        "juseyo",
        "no_cap",
        "no_changes",
        "omg",
        "yay",
        "dope",
        "slay",
        "sweet",
        "awesome",
        "excellent",
        "wonderful",
        "fantastic",
        "amazing",
        "oya",
        "abeg",
        "ma'am",
        "maam",
        "madam",
        "bruh",
        "mano",
        "jefe",
        "there",
        "gg",
        "u",
        "yaar",
        "por",
        "favor",
        "oh",
        "wow",
    ]
)
_NO_PHRASES = (
    "n",
    "no",
    "nope",
    "nah",
    "naw",
    "no thanks",
    "no thank you",
    "cancel",
    "cancel it",
    "cancel that",
    "stop",
    "stop it",
    "abort",
    "decline",
    "declined",
    "refuse",
    "reject",
    "don't",
    "dont",
    "do not",
    "don't do it",
    "dont do it",
    "do not do it",
    "not now",
    "not yet",
    "not today",
    "not right now",
    "not just yet",
    "not quite yet",
    "maybe later",
    "later maybe",
    "another time",
    "maybe another time",
    "never mind",
    "nevermind",
    "forget it",
    "forget about it",
    "skip",
    "skip it",
    "abandon",
    "abandon it",
    "no way",
    "hold off",
    "leave it",
    "non",
    "nein",
    "nahi",
    "nahin",
    "mat karo",
    "não",
    "nao",
    "no gracias",
    "i changed my mind",
    "changed my mind",
    "i'm good",
    "im good",
    "yeah nah",
    "yeah no",
    "too expensive",
    "too pricey",
    "too steep",
    "too dear",
    "too costly",
    "too much",
    "i've changed my mind",
    "pass",
    "i'll pass",
    "i'll hold off",
    "hold off for now",
    "i'll hold off for now",
    "not for now",
    "give it a miss",
    "i'll give it a miss",
    "i'll skip it",
    "i'll leave it",
    "leave it for now",
    "i'll leave it for now",
    "iie",
    "yamete",
    "yamete kudasai",
    "iie yamete kudasai",
    "hayır",
    "hayir",
    "istemiyorum",
    "vazgeçtim",
    "non merci",
    "annule",
    "annuler",
    "abbrechen",
    "nein danke",
    "annulla",
    "no grazie",
    "cancela",
    "cancelar",
    "não obrigado",
    "nao obrigado",
    "batal",
    "batalkan",
    "tidak",
    "tidak terima kasih",
    "rehne do",
    "nahi rehne do",
    "rehne de",
    "mat kar",
    "nahi chahiye",
    "nee",
    "nee dank je",
    "nee hoor",
    "niet doen",
    "liever niet",
    "stop maar",
    "annuleer",
    "iptal",
    "iptal et",
    "yok",
    "gerek yok",
    "vazgeç",
    "không",
    "không cần",
    "thôi",
    "hủy",
    "hủy đi",
    "nggak",
    "enggak",
    "gak",
    "nggak usah",
    "gak usah",
    "nggak jadi",
    "gak jadi",
    "jangan",
    "jangan dulu",
    "deixa pra lá",
    "deixa",
    "agora não",
    "melhor não",
    "lascia perdere",
    "lascia stare",
    "meglio di no",
    "mejor no",
    "déjalo",
    "ahora no",
    "laisse tomber",
    "let me think about it",
    "let me think it over",
    "i'll think about it",
    "i need to think about it",
    "keep it private",
    "keep it private for now",
    "not interested",
    "not interested anymore",
    "no longer interested",
    "nie",
    "nie teraz",
    "nie publikuj",
    "nie wgrywaj",
    "nie kupuj",
    "anuluj",
    "нет",
    "net",
    "не надо",
    "отмена",
    "yükleme",
    "yayınlama",
    "şimdi değil",
    "simdi degil",
    "hapana",
    "huwag",
    "huwag muna",
    "bu yao",
    "bu yong",
    "aniyo",
    "iie kekkou desu",
)
# Any of these makes a message something other than a plain yes.
# the words of a yes that every search for one looks for; each adds its own
YES_WORDS = r"yes|yeah|yep|yup|ok|okay|sure|fine|proceed|go ahead|go for it"
_NOT_PLAIN = re.compile(
    r"\?|\b(if|unless|but|wait|hold on|hmm+|um+|uh+|maybe|perhaps|probably|not sure|unsure|"
    r"no|not|don'?t|never|nope|nah|cancel|stop|how|what|why|when|which|who|where|"
    r"actually|instead|first|later|after|before|cheaper|price|title|tag|tags|sui|mist|wal|"
    r"pending|provided|providing|assuming|depending|subject to|as long as|so long as)\b",
    re.I,
)
# said mockingly: "yeah right lol", "ja hoor, alsof ik zoveel geld heb" (as if I had the money)
_SARCASM = re.compile(
    r"\by(?:eah?|ea|a|ep|up)\s+right\b(?!\s+(?:away|now|then|there|here|on)\b)|"
    r"\b(?:as if|alsof|als ob|comme si|como si|come se|in your dreams|dream on|nice try|"
    r"when pigs fly|not in a million years|sure,? jan)\b",
    re.I,
)
# (no whitespace around the separator: "\s*" there was tried again at every space of a run)
_CLAUSE = re.compile(r"[,;:]|\.{2,}|(?<=[.!])\s|…|—|–|-{1,2}(?=\s)|\b(?:wait|actually|but)\b", re.I)
# signs said in words; faces and signs of doubt or waiting are a hedge beside any yes
# ("🤷 sure", "⏳👍")
_EMOJI = {
    **{"👍": " yes ", "✅": " yes ", "👌": " ok ", "🙆": " yes ", "👎": " no ", "❌": " no "},
    **dict.fromkeys("🤔🤷😬🙃😕🫠🤞😐😑🥴😟🫤", " hmm "),
    **dict.fromkeys("⏳⏸⌛", " wait "),
}


# yes as a command line says it: "yes --confirm", "y -f", "+1"
_FLAG_YES = re.compile(r"(?<![\w-])(?:--?(?:y|yes|confirm|force|f|publish|buy|upload)\b|\+1\b)")


def _normal(text: str) -> str:
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    text = _FLAG_YES.sub(lambda m: " yes " if m.group(0) in ("+1", "-y", "-f", "--y", "--f",
                         "--force", "--confirm", "--yes") else f" {m.group(0).lstrip('-')} ",
                         text)  # fmt: skip
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").lower()
    text = re.sub(r"[^\w\s'?,;:.\-—–…]", " ", text)
    return " ".join(text.split())


_SPAN_WORDS = 14  # the longest neutral statement looked for


_Index = dict[str, tuple[tuple[str, ...], ...]]  # phrases by their first word


def _index(phrases: Iterable[str]) -> _Index:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for p in phrases:
        words = tuple(p.split())
        by_first.setdefault(words[0], []).append(words)
    return {w: tuple(ps) for w, ps in by_first.items()}


def _covered(words: list[str], phrases: _Index, neutral: re.Pattern[str] | None = None) -> bool:
    """True when ``words`` is one or more phrases and fillers, with at least one phrase;
    with ``neutral``, also statements it matches whole that neither add nor refuse anything
    ("I've read it carefully", "we're happy"): they count as fillers, never as the yes."""
    return bool(_phrases_in(words, phrases, neutral))


def _phrases_in(
    words: list[str], phrases: _Index, neutral: re.Pattern[str] | None = None
) -> int | None:
    """How many phrases cover ``words`` with fillers and neutral statements between them
    (0: fillers and neutral statements only); None when some word is none of these."""
    n = len(words)
    best: list[int | None] = [None] * (n + 1)  # phrases used to cover words[:i]
    best[0] = 0
    for i in range(n):
        used = best[i]
        if used is None:
            continue
        if words[i] in _FILLERS:
            best[i + 1] = max(best[i + 1] or 0, used)
        for phrase in phrases.get(words[i], ()):
            j = i + len(phrase)
            if tuple(words[i:j]) == phrase:
                best[j] = max(best[j] or 0, used + 1)
        if neutral is not None:
            for j in range(i + 2, min(n, i + _SPAN_WORDS) + 1):
                if neutral.fullmatch(" ".join(words[i:j])):
                    best[j] = max(best[j] or 0, used)
    return best[n]


# Statements around a yes that neither ask, add nor refuse anything: the message was read,
# the user is happy, it sounds fair ("Alright. I've read it carefully. Yes, upload it.").
_HOW_READ = r"(?: (?:carefully|properly|twice|again|thoroughly|closely|already|now|all))*"
_REVIEWED = (
    r"(?:(?:i|we)(?:'ve| have| just|'ve just| have just)? |and (?:(?:i|we)(?:'ve| have)? )?)"
    r"(?:read|checked|reviewed|double[- ]checked|looked (?:at|over|through)|gone (?:over|through)|"
    r"been through|thought (?:about it|it over|about it all)|talked (?:it|this|that) (?:over|through)|"
    r"discussed it|slept on it|considered)"
    r"(?: (?:it|this|that|everything|all of (?:it|that|this)|the (?:details|terms|summary|plan|"
    r"numbers|fees?|costs?)|through|over))*"
    + _HOW_READ
    + r"(?: with (?:my|our|the) \w+(?: \w+)?)?"
    + _HOW_READ
)
_COSTS = r"(?:the|that|this|those|these) (?:costs?|fees?|estimate|amount|figures?|numbers?|price)"
_CONTENT = (
    r"(?:(?:i'm|im|i am|we're|we are) )?(?:really |very |quite |totally |all )?(?:happy|good|"
    r"satisfied|content|comfortable|ready|sure|convinced|ok|okay|fine)(?: with (?:it|that|this|"
    rf"everything|all of (?:it|that)|the terms|{_COSTS}))?(?: now)?"
)
_THANKED = (
    r"(?:thank you|thanks|thx)(?: (?:so|very) much)? for (?:explaining(?: (?:it|that|this))?|"
    r"the (?:explanation|details|info|information|summary|breakdown|heads up)|clarifying|that|"
    r"checking|confirming|double[- ]checking|letting me know)"
)
_LOOKED = (
    r"having (?:looked at|read|checked|reviewed|considered) (?:it|this|that|everything|"
    r"the (?:numbers|details|summary|terms|fees?|costs?|estimate|figures|listing|price|draft|"
    r"purchase|upload|offer))"
)
_WORTH = r"(?:(?:it's|its|it is|that's|thats|totally|so|definitely|well) )?worth it"
_SAID_YES = r"to proceed|(?:i )?(?:already )?said yes(?: already)?|i (?:already )?told you yes"
_SOUNDS_FAIR = (
    rf"(?:(?:that|this|it|{_COSTS})(?:'s| is| are| sounds| seems| looks)|sounds|seems|looks) "
    r"(?:safe|fair|reasonable|fine|"
    r"good|great|right|correct|perfect|excellent|ideal|"
    r"ok|okay|grand|brilliant|lovely|sensible)(?: enough)?(?: to me)?"
)


@cache
def _neutral(gate: str | None) -> re.Pattern[str]:
    """Neutral statements at ``gate``, its own action named ("go ahead with the upload")."""
    nouns = {"upload": "upload", "listing": "listing", "purchase": "purchase"}
    named = rf"|with (?:the|this) {nouns[gate]}" if gate in nouns else ""
    if gate in _NOUNS:  # "I consent to the upload and to the storage charge shown"
        own = "|".join(sorted(_NOUNS[gate], key=len, reverse=True))
        named += (
            rf"|and to (?:the|this|that) (?:{own})(?: shown| as shown| quoted| stated)?"
            rf"|and (?:the|this|that) (?:{own}) (?:shown|as shown|quoted|stated)"
        )
    return re.compile(
        rf"{_REVIEWED}|{_CONTENT}|{_SOUNDS_FAIR}|{_THANKED}|{_LOOKED}|{_WORTH}|{_SAID_YES}{named}"
    )


@cache
def _phrases(gate: str | None) -> _Index:
    """The approvals at ``gate`` (None: at whichever gate waits, so any gate's)."""
    gates = [gate] if gate in _GATE_PHRASES else list(_GATE_PHRASES) if gate is None else []
    extra = [p for g in gates for p in (*_GATE_PHRASES[g], *_ELSEWHERE[g], *_composed(g))]
    return _index({*_YES_PHRASES, *_ELSEWHERE["yes"], *extra})


def _phrases_elsewhere() -> dict[str, tuple[str, ...]]:
    """The yeses, gate actions and refusals of ``prompts/nlu/consent_words.yaml``, in the
    other languages people answer in ("sí súbelo", "kauf es", "nein danke")."""
    data = load_yaml(CONSENT_WORDS)
    out: dict[str, tuple[str, ...]] = {}
    for key in ("yes", "no", *_GATE_PHRASES):
        said = data.get(key) or []
        if not isinstance(said, list):
            raise ValueError(f"{CONSENT_WORDS}: '{key}' must be a list of phrases")
        out[key] = tuple(" ".join(str(p).lower().split()) for p in said)
    return out


CONSENT_WORDS = "nlu/consent_words.yaml"
_ELSEWHERE = _phrases_elsewhere()
_NO = _index((*_NO_PHRASES, *_ELSEWHERE["no"]))


_STRETCHED = re.compile(r"(\w)\1{2,}")


def _words(clause: str) -> list[str]:
    """The words of ``clause``, a stretched word said once: "yesss" -> "yes"."""
    plain = _STRETCHED.sub(r"\1", clause.strip(" .!"))  # one pass, not one per word
    return [w for w in re.split(r"[\s.!]+", plain) if w]


def read_consent(text: str, gate: str | None) -> Consent | None:
    """'approve' for a plain yes to ``gate``, 'decline' for a refusal, else None.

    ``gate`` is 'upload', 'listing' or 'purchase' (None: the gate is not known, so
    an approval naming any gate's action is taken for it).
    """
    norm = _WHY_NOT.sub("why_not", _normal(text))  # agreement, unless asked: "why not?"
    norm = _NO_BUT_YES.sub(_no_but_yes, norm)
    norm = _NO_CHANGE.sub("no_changes", norm)
    norm = _WITH_SHOWN.sub("as shown", norm)  # "publish it with that title and those tags"
    if gate in _NOUNS:  # "I approve the storage payment and the upload": one approval
        norm = _both_terms(gate).sub(r"\1", norm)
    norm = re.sub(r"\bcan'?t wait\b", "cant_wait", norm)  # "can't wait to try it": eager
    if not norm or _SARCASM.search(norm):
        return None
    if _thanks_and_a_bare_yes(norm):  # "yes thank you for the info": the info acknowledged
        return None
    if settled := _settled(norm, gate):  # "hmm... ok yes, do it", "um no wait hold on"
        return settled
    clauses = [c.strip() for c in _CLAUSE.split(norm) if c.strip(" .!")]
    if not clauses or keeps_going(norm):  # "don't cancel it": no refusal, no yes
        return None
    while len(clauses) > 1 and all(w in _FILLERS for w in _words(clauses[-1])):
        clauses.pop()  # "I'll pass, thanks": the refusal is the last thing said
    last = _words(clauses[-1])
    if last and "?" not in clauses[-1] and _covered(last, _NO):
        return "decline"
    whole = _words(re.sub(r"[,;:…—–]", " ", norm))
    if _held_off(clauses, norm):  # "not yet, I want to check something first"
        return "decline"
    if _affirms_terms(norm, gate):  # "yes, the price and title are both fine"
        return "approve"
    if _refuses(norm):  # "nah dont list it yet", "please don't upload it"
        return "decline"
    if _refuses_at_last(norm, gate):  # "… he hasn't said yes. Please don't upload it."
        return "decline"
    if gate and _declines(norm, gate):  # "nah, storage costs too much", "nie kupuj, za drogie"
        return "decline"
    if _NOT_PLAIN.search(norm):
        return None
    if _covered(whole, _phrases(gate), _neutral(gate)):
        return "approve"
    if _with_small_talk(clauses, gate):  # "Perfect, publish. Have a great day!"
        return "approve"
    if _LEADING_NO.match(norm) and "?" not in norm:  # "don't upload it", "no, not today"
        return "decline"
    return None


# Words that make a clause more than small talk around a yes: an action, a choice among
# things, an amount, a time to do it at, a wish, a doubt. Small talk has none of them.
_NOT_SMALL_TALK = re.compile(
    r"\d|^(?:is|are|am|was|were|do|does|did|can|could|will|would|should|shall|may|might|how|"
    r"what|whats|when|where|which|who|why|hows)\b|"  # a question, with or without its mark
    r"\b(?:jk|j/k|kidding|joking|jokes|sike|psych|not really|nvm|never ?mind|retract\w*|"
    r"pending|subject|provided|assuming|depending|review\w*|sign[- ]?off|boss|manager|lead|"
    r"legal|committee|"
    r"scratch that|disregard|ignore|undo|wait\w*|keep\w*|hold\w*|paus\w*|"
    r"stop\w*|cancel\w*|continu\w*|resum\w*|carry|one|ones|other|another|"
    r"different|only|instead|also|too|again|more|less|else|"
    r"wallet|account|address|files?|models?|epochs?|half|double|twice|two|three|four|five|six|"
    r"seven|eight|nine|ten|upload\w*|list\w*|publish\w*|sell\w*|sale|buy|buys|buying|bought|"
    r"purchas\w*|pay\w*|"
    r"stor\w*|download\w*|delist\w*|delete|remove|add|change|rename|set|make|put|send|move|give|"
    r"transfer|switch|use|check|verify|retry|undo|show|tell|explain|help|let me|let us|lemme|"
    r"want|need|should|"
    r"could|would|can|will|shall|must|think|guess|hope|suppose|tomorrow|tonight|later|soon|next|"
    r"once|when|until|till|after|before|first|in (?:a|an|a few|few|some) (?:sec|second|minute|min|"
    r"hour|day|week)s?|(?:on|by|this|next) (?:monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|weekend|morning|afternoon|evening|night))\b"
)
_SMALL_TALK_WORDS = 14  # the longest clause of small talk looked at
_FILE_LIKE = re.compile(r"\w\.\w")  # "m.safetensors", "1.5": a name or a figure
# "but", "if", "tomorrow", "first" in the other languages people write in: small talk is
# read in English only, and these make a clause more than small talk wherever they are
_NOT_SMALL_TALK_ELSEWHERE = re.compile(
    r"\b(?:pero|aber|mais|mas|ma|però|maar|ama|tapi|lekin|magar|si|wenn|falls|se|als|jika|kalau|"
    r"agar|morgen|demain|mañana|manana|amanhã|amanha|domani|besok|kal|yarın|yarin|después|despues|"
    r"après|apres|später|spater|dopo|depois|nanti|baad|sonra|primero|d'abord|zuerst|erst|primeiro|"
    r"prima|dulu|pehle|önce|once|patto|purché|purche|siempre que|con tal|condition|pourvu|"
    r"vorausgesetzt|sofern|desde que|contanto|voorwaarde|warunkiem|şartıyla|sartiyla|asalkan|"
    r"asal|bashart|sharte|lakini|ila|ale|nhung|nhưng|demo|kedo|hajiman|tetapi|namun|но|однако)\b"
)
# yeses that say only "yes": with small talk around them, a yes to the small talk may be
# meant ("yes, I'd love a coffee"), so small talk needs a yes that says more ("go ahead")
_BARE_YES = _index((
    "y", "ye", "yes", "yess", "yea", "yh", "yeh", "yeah", "yep", "yup", "ya", "yah", "ok", "okay",
    "okey", "k", "kk", "sure", "surely", "alright", "all right", "aight", "fine", "right",
    "correct", "great", "perfect", "absolutely", "definitely", "certainly", "of course",
    "indeed", "totally", "for sure", "sure thing", "lovely", "brilliant", "agreed", "i agree",
    "agree", "that's right", "thats right", "def", "defo", "deffo", "bet", "yessir", "yas",
    "yass", "ofc", "aye", "mhm", "si", "sí", "oui", "ja", "da", "да", "tak", "hai", "haan", "han",
    "haa", "ji", "sim", "iya", "evet", "はい", "네", "예", "好", "好的", "oo", "opo", "ndiyo",
    "na'am", "naam", "hao", "hao de", "haode", "claro", "vale", "certo", "sì", "klar", "genau",
    "tamam", "vâng", "dạ", "ừ", "beautiful", "parfait", "perfecto", "perfetto", "prima",
    "no_worry", "no_problem", "no_objection",
))  # fmt: skip


def _with_small_talk(clauses: list[str], gate: str | None) -> bool:
    """A plain yes with small talk around it: every clause is a yes, politeness or a remark
    that neither acts, chooses, counts, schedules, wishes nor doubts ("yes please, you're a
    star", "ok go ahead and buy it, thx, typing from the school pickup line lol"). The
    whole message has already been checked for a question, a condition or a refusal."""
    if any(_FILE_LIKE.search(c) for c in clauses):
        return False  # "upload ./m.safetensors": a file named is a request, not small talk
    phrases, neutral = _phrases(gate), _neutral(gate)
    said_more = talk = 0
    for clause in clauses:
        words = _words(clause.removeprefix("and ").removeprefix("so "))
        used = _phrases_in(words, phrases, neutral)
        if used:
            said_more += _phrases_in(words, _BARE_YES, neutral) is None  # more than "yes"
        elif used is None:
            said = " ".join(words)
            if (
                len(words) > _SMALL_TALK_WORDS
                or not said.isascii()
                or _NOT_SMALL_TALK.search(said)
                or _NOT_SMALL_TALK_ELSEWHERE.search(said)
            ):
                return False
            talk += 1
    return said_more > 0 and 0 < talk <= 3


# A refusal at a gate in more words than the phrase lists hold: a no first, the gate's own
# action refused, or a reason never to go on now; read only where nothing in the message asks,
# changes, or says yes. A refusal misread costs a question asked again; a yes misread, money.
_NO_FIRST = re.compile(
    r"^(?:no|nah|nope|naw|nay|negative|never|hard pass|pass|nix it|park it|lmao no|lol no|"
    r"nee|nein|non|não|nao|nie|нет|net|hayır|hayir|không|khong|thôi|tidak|gak|nggak|enggak|nahi|"
    r"nahin|hapana|huwag|wag|ayoko|いいえ|아니요|아니|不用了|不用|不|لا|lieber nicht|iie|aniyo|"
    r"la(?=,)|yok|ga jadi|gak jadi|nggak jadi|batal|"
    r"pas aujourd'hui|ahora no|agora não|adesso no|jetzt nicht|nog niet)\b"
)
_NOT_DOING = {
    gate: re.compile(
        r"\b(?:don'?t|dont|do not|not|never|won'?t|will not|shan'?t|shall not|can'?t|cannot|"
        r"dinnae|didnae|cannae|no|"
        r"rather not|prefer not to|'ll not|ain'?t)\s+(?:(?:be|going|gonna|to|want|wanna|really|"
        r"just|yet|please|go|through|with|make|complete|be|the|it|this|that)\s+){0,3}"
        rf"(?:{verbs}|proceed\w*|approv\w*|go ahead|go through|complete)\b"
    )
    for gate, verbs in {
        "upload": r"upload\w*|stor\w*|pay\w*",
        "listing": r"publish\w*|list\w*|sell\w*|post\w*|put",
        "purchase": r"buy\w*|purchas\w*|pay\w*|spend\w*",
    }.items()
}
_NO_REASON = re.compile(
    r"\b(?:too (?:expensive|pricey|much|steep|costly|dear|rich)|costs? too much|way too much|"
    r"can'?t afford|rip-?off|not worth it|(?:another|some other|a later) (?:time|day)|maybe later|"
    r"not (?:now|today|yet|for now|interested)|next (?:week|month|time)|i'?d rather wait|"
    r"keep it (?:private|off)|changed my mind|change of heart|say no|says no|hold off|"
    r"let'?s (?:wait|hold off|leave it|skip (?:it|this|that|the \w+|listing|uploading|buying))|"
    r"\w+naide\b|haji maseyo|pahal[ıi]|terlalu mahal|"
    r"zu teuer|te duur|za drogie|слишком дорого|trop cher|muy caro|caro demais|troppo caro|"
    r"mehenga|ghali|mahal|高すぎ|太贵|買いません|안 살래|不买|不上传|先别|đừng|mat karo|"
    r"usi\w+ bado|ألغ|لا أريد|не надо|не публикуй|не покупай|pas maintenant|nicht jetzt|"
    r"più tardi|plus tard|später|más tarde|mais tarde|nanti saja|baad mein)"
)
_SAYS_YES = re.compile(rf"\b(?:{YES_WORDS}|do it|approve|confirm|why_not|no_\w+)\b")


def _declines(norm: str, gate: str) -> bool:
    """A refusal in words the phrase lists do not hold: a no first, the gate's own action
    refused, or a reason not to go on ("too pricey for me right now, skip the upload"), with
    no question, no change asked and no yes in the message."""
    if gate not in _NOT_DOING or "?" in norm or _A_CHANGE.search(norm):
        return False
    if _SAYS_YES.search(_NOT_DOING[gate].sub(" ", norm)):  # "do not proceed" says no yes
        return False
    if re.match(r"^(?:is|are|do|does|did|can|could|will|would|should|how|what|when|why)\b", norm):
        return False  # a question without its mark
    if re.search(r"\b(?:until|till|unless|if|when|once|as soon as)\b", norm):
        return False  # "don't list it until I say so": a condition, asked about again
    if _NOT_DOING[gate].search(norm):
        return True
    return bool(_NO_FIRST.match(norm) or _NO_REASON.search(norm)) and not _acts(norm, gate)


_NEGATOR = re.compile(
    r"\b(?:no|not|never|don'?t|dont|skip|cancel|stop|abort|drop|forget|without|dinnae|didnae|"
    r"cannae|niet|nicht|kein|pas|non|nie|не|jangan|mat|nahi|nahin|não|nao|tidak|gak|không|"
    r"khong)\b"
)


def _acts(norm: str, gate: str) -> bool:
    """The gate's own action asked for in ``norm`` with no refusal in the three words
    before it ("no complaints, upload away"; not "nah, skip the upload")."""
    for m in _GATE_VERB[gate].finditer(norm):
        before = " ".join(norm[: m.start()].split()[-3:])
        if not _NEGATOR.search(before):
            return True
    return False


_GATE_VERB = {
    "upload": re.compile(
        r"\b(?:upload\w*|store|send it|ship it|súbelo|sube|hochladen|carica\w*)\b"
    ),
    "listing": re.compile(
        r"\b(?:publish\w*|list it|list them|sell it|post it|ship it|publica\w*)\b"
    ),
    "purchase": re.compile(
        r"\b(?:buy\w*|purchase\w*|pay it|pay for it|beli\w*|compra\w*|kauf\w*)\b"
    ),
}


# hesitation before the answer: "hmm...", "let me think...", "I was unsure but"
_HESITATION = re.compile(
    r"^(?:(?:hmm+|mm+|um+|uh+|erm*|well|let me (?:think(?: about it| it over)?|see)|i think|on second thought|"
    r"i was (?:unsure|hesitant|not sure|on the fence)(?: at first)?,? but|"
    r"after (?:thinking|sleeping on) (?:it|about it)(?: over)?)\s*(?:\.{2,}|…|[,:;.!-])?\s*)+"
)


@cache
def _both_terms(gate: str) -> re.Pattern[str]:
    """The gate's own things approved together: "approve the storage fee and the upload"."""
    own = "|".join(sorted((re.escape(n) for n in _NOUNS[gate]), key=len, reverse=True))
    term = rf"(?:the|this|that) (?:{own})(?: shown| as shown| quoted| stated)?"
    verb = r"(?:approve|accept|confirm|consent to|agree to|authori[sz]e)"
    return re.compile(rf"\b({verb} {term})(?: and (?:to )?{term})+\b")


def _thanks_and_a_bare_yes(norm: str) -> bool:
    """Thanks for what was said and a yes that says only "yes": the yes may answer the
    telling, not the gate ("yes thank you for the info"); "thanks for the details, go ahead"
    says more."""
    if not re.search(_THANKED, norm):
        return False
    rest = _words(re.sub(r"[,;:.!…—–]", " ", re.sub(_THANKED, " ", norm)))
    return bool(rest) and _phrases_in(rest, _BARE_YES) is not None


def _settled(norm: str, gate: str | None) -> Consent | None:
    """A hesitation first, then a yes of two words or more that approves on its own ("um,
    let me think... yes, go ahead"), or a refusal ("um no wait hold on"); "hmm, ok" is not
    settled."""
    m = _HESITATION.match(norm)
    rest = norm[m.end() :] if m else ""
    if not _words(rest):
        return None
    said = read_consent(rest, gate)
    return said if said == "decline" or (said and len(_words(rest)) >= 2) else None


# what a question showed, affirmed as it is: "the price and title are both fine"
_TERM = (
    r"(?:(?:the|that|this|your)\s+)?(?:(?:suggested|proposed|listed|shown|asking)\s+)?"
    r"(?:price|title|name|tags?|description|terms|details|(?:storage\s+)?(?:cost|fee)|plan|summary)"
    r"(?:\s+as\s+(?:currently\s+)?(?:presented|shown|proposed)|\s+shown|"
    r"\s+you\s+(?:suggested|proposed|showed|gave))?"
)
_AFFIRMED = re.compile(
    rf"(?:and\s+)?(?:{_TERM}(?:\s*(?:,|and|&)\s*{_TERM}|\s+{_TERM})*|everything|it all|all of it|"
    r"all of that|"
    r"all that|that all|all|both|that|it|thats|that's|this|everything you showed|"
    r"(?:all|the) (?:two|three|four|five) of them|all (?:two|three|four|five)|both of them|"
    r"they all|they|them all)"
    r"(?:'s|'re)?\s+(?:(?:both|all)\s+)?(?:(?:is|are|'s|'re|look|looks|seem|seems|sound|sounds)\s+)?"
    r"(?:both\s+|all\s+)?"
    r"(?:fine|good|ok|okay|great|perfect|right|correct|alright|spot on|how i want it|as i want it|"
    r"acceptable|agreeable|fair|works?)"
    r"(?:\s+(?:to|with|by|for)\s+(?:me|us))?|"
    r"(?:at|for)\s+(?:that|this|the shown|the same)\s+price|(?:at|for)\s+the\s+price\s+shown|"
    r"as (?:it is|is|shown)|(?:at|for)\s+(?:the|its)\s+(?:listed|shown|asking|current)\s+price|"
    r"(?:(?:that's|thats|that is|it's|its|it is)\s+)?(?:a\s+)?(?:fair|good|great|reasonable|decent|fine)\s+"
    r"(?:price|deal)|(?:(?:i'm|im|i am|we're|we are)\s+)?(?:good|happy|fine|ok|okay|content|"
    rf"comfortable)\s+with\s+{_COSTS}",
)
# no yes to what was shown: a condition, a hedge, a change, another figure, a question
_NOT_AFFIRMING = re.compile(
    r"\?|\d|\b(if|unless|but|wait|hold on|hmm+|maybe|perhaps|probably|not|no|n't|never|"
    r"actually|instead|change|make|rename|call|cheaper|lower|higher|add|remove|set|first|"
    r"sui|mist|wal|except|though|although)\b",
)


@cache
def _affirmed_or_neutral(gate: str | None) -> re.Pattern[str]:
    return re.compile(rf"{_AFFIRMED.pattern}|{_neutral(gate).pattern}")


def _affirms_terms(norm: str, gate: str | None) -> bool:
    """A plain yes with the terms shown affirmed as they are, in either order: "yes, the
    price and title are both fine", "the price is fine, go ahead", "yes list it at that
    price". Any condition, hedge, change, figure or question: not this."""
    if _NOT_AFFIRMING.search(norm):
        return False
    words = _words(re.sub(r"[,;:…—–]", " ", norm))
    affirmed = _affirmed_or_neutral(gate)
    # covered first: it stops at the first word that is none of its kinds, where the scan
    # for an affirmation would try every span of a long message
    return _covered(words, _phrases(gate), affirmed) and any(
        _AFFIRMED.fullmatch(" ".join(words[i:j]))
        for i in range(len(words))
        for j in range(i + 1, min(len(words), i + _SPAN_WORDS) + 1)
    )


def _held_off(clauses: list[str], norm: str) -> bool:
    """A refusal first, then a reason to hold off ("not yet, I want to check something
    first"), with no question, no figure, no change asked and no yes anywhere in it."""
    if len(clauses) < 2 or "?" in norm or _ANY_YES.search(norm):
        return False
    if _A_CHANGE.search(_LOOKED_OVER.sub(" ", norm)):  # "… check the price first" changes none
        return False
    return _covered(_words(clauses[0]), _NO) and bool(_HOLD_REASON.search(" ".join(clauses[1:])))


# a refusal refused: "don't cancel it", "do not stop it, keep going"
_KEEP_GOING = re.compile(
    r"\b(?:don'?t|dont|do not|never|no need to|not)\s+(?:\w+\s+)?(?:cancel|stop|abort|kill)\b",
    re.I,
)


def keeps_going(text: str) -> bool:
    """A refusal refused ("don't cancel it", "do not stop the upload"): never a no."""
    return bool(_KEEP_GOING.search(text))


# the gate's action, refused: "don't list it", "do not upload it yet", "dont buy it"
_NEGATED_ACTION = re.compile(
    r"\b(?:don'?t|dont|do not|not)\s+(?:\w+\s+){0,2}?"
    r"(?:upload|list|buy|purchase|publish|sell|pay|store|go ahead|proceed)\b"
)


def _refuses(norm: str) -> bool:
    """A no to the gate's action, plainly: a refusal first ("nah, don't list it yet") or
    the action refused ("please don't upload it"), with no question, no condition, no
    figure and no change asked in it."""
    if "?" in norm or re.search(
        r"\d|\b(but|if|unless|until|instead|change|make|set|anymore|any more|no longer|"
        r"any longer|off the market)\b",
        norm,
    ):
        return False  # "I don't want to sell it anymore" takes a listing down
    return bool(_NEGATED_ACTION.search(norm)) and (
        bool(_LEADING_NO.match(norm)) or not _ANY_YES.search(_NEGATED_ACTION.sub(" ", norm))
    )


# the gate's own action, refused in the last sentence, after whatever came before
_GATE_ACTION = {
    "upload": r"upload|store|pay|go ahead|proceed",
    "listing": r"list|publish|sell|go ahead|proceed",
    "purchase": r"buy|purchase|pay|go ahead|proceed",
}


def _refuses_at_last(norm: str, gate: str | None) -> bool:
    """The last of several sentences refuses the gate's own action ("You know what, he
    hasn't said yes. Please don't upload it."), with no question anywhere."""
    sentences = [s for s in re.split(r"(?<=[.!])\s+", norm) if s.strip(" .!")]
    if gate not in _GATE_ACTION or len(sentences) < 2 or "?" in norm:
        return False
    return bool(_REFUSED_ACTION[gate].match(sentences[-1]))


_REFUSED_ACTION = {
    gate: re.compile(
        rf"^(?:please |so |then |just )*(?:don'?t|dont|do not)\s+(?:\w+\s+){{0,2}}?"
        rf"(?:{action})\b(?: (?:it|this|that|them|the model|the file))?"
        r"(?: (?:yet|now|for now|please|then))*[ .!]*$"
    )
    for gate, action in _GATE_ACTION.items()
}


_ANY_YES = re.compile(rf"\b(?:{YES_WORDS}|go|do it|approve|confirm|list|buy|upload)\b")
_A_CHANGE = re.compile(
    r"\d|\b(call|name|title|tags?|price|cheaper|dearer|make it|change|set|rename|description|"
    r"instead|sui|mist|double|twice|triple|half|halve)\b"
)
# a term named as what is to be looked at again, not changed: "check the description first"
_LOOKED_OVER = re.compile(
    r"\b(?:check|look (?:at|over|into)|review|read|reread|think about|go over|double[- ]check)\s+"
    r"(?:the |my |its |that |this )?(?:price|title|name|tags?|description)\b"
)
_HOLD_REASON = re.compile(
    r"\b(first|later|check|think|another (?:time|day)|tomorrow|not ready|changed my mind|"
    r"look (?:at|into)|sleep on it|come back)\b"
)
# a "no" that agrees: "no problem", "no objections" (asked, they are questions: "?" stays)
_NO_BUT_YES = re.compile(
    r"\bno (problem|objection|worry|worries|cap|wahala|complaint|question|need|shaking|issue|"
    r"stress|drama|biggie|sweat)s?\b"
    r"(?: (?:to \w+(?: \w+)?|from me))?|\b(?:tidak masalah|no hay problema|pas de problème|"
    r"kein problem|sem problema|nessun problema)\b"
)


def _no_but_yes(m: re.Match[str]) -> str:
    """'no worries' -> 'no_worry', 'no need to ask again' -> 'no_need', 'tidak masalah' ->
    'no_problem': a no that agrees, one token the refusals never match."""
    said = (m.group(1) or "problem").rstrip("s")
    return "no_" + {"worrie": "worry", "complaint": "problem", "question": "problem"}.get(
        said, said
    )


# nothing to change in what was shown: "no changes, publish it"
_NO_CHANGE = re.compile(
    r"\b(?:no (?:more )?(?:changes?|edits?)(?: (?:needed|required|from me))?|"
    r"nothing (?:else )?to (?:change|edit|add))\b"
)
# the title and tags shown, named as they are (no change): "with that title and those tags"
_SHOWN_TITLE = r"(?:that|this|the|its) (?:title|name)(?: shown)?"
_SHOWN_TAGS = r"(?:those|these|the|its) tags(?: shown)?"
_WITH_SHOWN = re.compile(
    rf"\bwith (?:{_SHOWN_TITLE}(?: and (?:{_SHOWN_TAGS}|tags(?: shown)?))?|"
    rf"{_SHOWN_TAGS}(?: and (?:{_SHOWN_TITLE}|(?:title|name)(?: shown)?))?)"
    r"(?! (?:instead|changed|removed|added|but|except)\b)(?=\s*[.!,]*\s*$)"
)
_WHY_NOT = re.compile(r"\bwhy not\b(?!\s*\?)")
_LEADING_NO = re.compile(
    r"^(no|nope|nah|don'?t|dont|do not|cancel|stop|abort|not now|not yet|never ?mind|forget it)\b"
)


_PRICE_OK = re.compile(
    r"^(?:(?:yes|yeah|yep|ok|okay|sure|alright)\s+)?(?:the\s+)?(?:price\s+(?:of\s+)?)?"
    r"(?P<fig>\d+(?:[.,]\d{1,9})?)?\s*(?P<unit>sui|mist)?\s*(?:is|'s|sounds|looks|seems)?\s*"
    r"(?:fine|good|ok|okay|great|perfect|right|alright|works)(?:\s+(?:with|by|for)\s+me)?$"
)


def accepts_price(text: str, draft_mist: int | None) -> bool:
    """'2 is fine' at a listing question that proposes 2 SUI: the price shown, accepted in
    so many words. Any other figure, any other word, a question: not an approval."""
    if draft_mist is None or "?" in text:
        return False
    norm = " ".join(re.sub(r"(?<!\d)[,.!]|[,.!](?!\d)", " ", _normal(text)).split())
    m = _PRICE_OK.match(norm)
    return m is not None and bool(m.group("fig")) and _is_price(m, draft_mist)


def _is_price(m: re.Match[str], draft_mist: int) -> bool:
    """Whether the figure ``m`` says (groups ``fig`` and ``unit``; SUI unless MIST is said)
    is ``draft_mist``."""
    try:
        amount = Decimal(m.group("fig").replace(",", "."))
    except InvalidOperation:
        return False
    return (
        amount if (m.group("unit") or "sui") == "mist" else amount * 1_000_000_000
    ) == draft_mist


_FIGURE = re.compile(
    r"(?:\b(?:at|for)\s+)?(?<![\w.])(?P<fig>\d+(?:[.,]\d{1,9})?)\s*(?P<unit>sui|mist)?\b"
)


def without_shown_price(text: str, draft_mist: int | None) -> str | None:
    """``text`` without the one figure it says when that figure is the price shown ("fine,
    1 SUI, list it already" at a question proposing 1 SUI): what is left is read as the
    answer. None: no figure, several, or another price."""
    if draft_mist is None:
        return None
    norm = _normal(text)
    found = list(_FIGURE.finditer(norm))
    if len(found) != 1:
        return None
    m = found[0]
    return norm[: m.start()] + " " + norm[m.end() :] if _is_price(m, draft_mist) else None
