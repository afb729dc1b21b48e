"""Issue 9: the phrasings the written corpus showed missing, in new words written for these tests.

Each behaviour is a chat that must alert (or a pattern that must hold), next to a near miss in
the same words that must not: a demand for more images beside a sibling asking for more
holiday photos, a price per picture toward a child beside the same price toward an adult, a
parent-asleep check and a car outside beside a babysitting parent and a coach's ride. The
sentences are not taken from the corpus or the shared scenarios.
"""

import pytest

from test_detection_standalone import SEVERE, run_chat

from trygg.conversation.severe import severe_pattern
from trygg.signals.detect import detect_signals
from trygg.text.normalize import normalize


def families(text: str, language: str) -> dict[str, float]:
    return {s.name: s.score for s in detect_signals(normalize(text), "e", language)}


@pytest.mark.parametrize(
    ("text", "language", "family"),
    [
        # Threats as chat writes them: the progressive, a veiled question, a year group as the audience.
        ("im posting the video on your story tonight unless you pay me", "en", "threat"),
        ("want your friends list to see these?", "en", "threat"),
        ("sen får 7b se vad du skickade", "sv", "threat"),
        ("blockar du mig så lägger jag ut den", "sv", "threat"),
        ("anmäl mig och så postar jag allt", "sv", "threat"),
        # More images demanded, and the picture named by what it is not.
        ("om du inte skickar två nya i kväll vet alla", "sv", "image_request"),
        ("send me the same as last time", "en", "image_request"),
        ("i want 4 new selfies by friday", "en", "image_request"),
        ("pics u wouldnt post on ur main", "en", "image_request"),
        ("bilder som du inte lägger upp någonstans", "sv", "image_request"),
        ("film yourself in your room and send it to me", "en", "image_request"),
        # Prices and payments for the child's pictures or company.
        ("150 kr per selfie", "sv", "gift_or_money_offer"),
        ("du får 700 kr om du följer med mig till stugan", "sv", "gift_or_money_offer"),
        ("i'll pay you 60 dollars tonight", "en", "gift_or_money_offer"),
        ("2000 vbucks a week if ur on my team", "en", "gift_or_money_offer"),
        # Hiding the contact and the meeting from the household.
        ("tell them youre revising at ellas", "en", "secrecy"),
        ("save my number as 'netball'", "en", "secrecy"),
        ("dont tell your sister about us", "en", "secrecy"),
        ("säg att du sover hos Wilma", "sv", "secrecy"),
        ("spara mig som 'mattegruppen'", "sv", "secrecy"),
        ("is your dad still at work?", "en", "isolation"),
        ("vi kan ringa när mamma jobbar natt", "sv", "isolation"),
        ("come to the window, im waiting around the corner", "en", "meeting_request"),
        ("kan jag hämta dig vid skolan imorgon", "sv", "meeting_request"),
        ("you sound way older than 13", "en", "compliments_trust"),
        ("du verkar så mycket mognare än tjejerna i din klass", "sv", "compliments_trust"),
        # The same steps in German and Dutch (deliverable 1: every language pack).
        ("willst du, dass deine Follower das sehen?", "de", "threat"),
        ("wil je dat je volgers dit zien?", "nl", "threat"),
        ("blockierst du mich, poste ich es sofort", "de", "threat"),
        ("blokkeer je me dan post ik het meteen", "nl", "threat"),
        ("Bilder, die du nicht auf Insta postest", "de", "image_request"),
        ("fotos die je niet op insta zet", "nl", "image_request"),
        ("sag deiner Mama, du schläfst bei Lena", "de", "secrecy"),
        ("zeg tegen je moeder dat je bij Lotte slaapt", "nl", "secrecy"),
        ("speicher mich als 'Mathe AG'", "de", "secrecy"),
        ("sla me op als 'wiskunde groep'", "nl", "secrecy"),
        ("ist deine Mama noch auf der Arbeit?", "de", "isolation"),
        ("is je moeder nog aan het werk?", "nl", "isolation"),
        ("ich zahle dir 100 € wenn du zu mir kommst", "de", "gift_or_money_offer"),
        # Second batch written apart (dev, 2026-12-04): secrecy, who watches the phone, gifts by name.
        ("we'll keep this to ourselves for a bit", "en", "secrecy"),
        ("no need to mention it to your dad", "en", "secrecy"),
        ("best not to say anything to the other players", "en", "secrecy"),
        ("just tell your dad it's chess club", "en", "secrecy"),
        ("wipe them after ok", "en", "secrecy"),
        ("leave your phone on silent so your nan doesnt catch on", "en", "secrecy"),
        ("dont mention us to your mam", "en", "secrecy"),
        ("does your mum know you're chatting with me", "en", "personal_info_request"),
        ("do your folks go through your snap?", "en", "personal_info_request"),
        ("lemme gift you a battle pass", "en", "gift_or_money_offer"),
        ("when your dads asleep we can call", "en", "isolation"),
        ("slide me a dm", "en", "platform_migration"),
        ("answer me in private not in the server", "en", "platform_migration"),
        ("vi har en liten hemlis mellan dig och mig", "sv", "secrecy"),
        ("prata inte om lektionerna med dom andra", "sv", "secrecy"),
        ("du behöver inte berätta nåt för din pappa", "sv", "secrecy"),
        ("skryt inte om presenten hemma", "sv", "secrecy"),
        ("säg till mamma att du har fått den", "sv", "secrecy"),
        ("säg att du ska hem till Klara", "sv", "secrecy"),
        ("läser dina föräldrar dina meddelanden", "sv", "personal_info_request"),
        ("vet din mamma att du skriver med mig", "sv", "personal_info_request"),
        ("jag ska köpa airpods till dig", "sv", "gift_or_money_offer"),
        ("messa mig privat", "sv", "platform_migration"),
        ("kom in i min privata server", "sv", "platform_migration"),
        ("helst vi två", "sv", "isolation"),
        # Chat spellings of the words patterns are written with ("va" for "vad", "sej" for "säg").
        ("va har du på dig nu 😏", "sv", "sexual_talk"),
        ("wut r u wearing", "en", "sexual_talk"),
        ("sej att du sover hos Nour", "sv", "secrecy"),
        ("vi kan chilla hemma hos mig", "sv", "meeting_request"),
        ("u can come round to mine after", "en", "meeting_request"),
        ("varför frågar du det", "sv", "wary"),
        ("why would u give me money", "en", "wary"),
        ("im not allowed tiktok yet", "en", "implied_age"),
        ("betala eller så skickar jag den till dina 300 följare", "sv", "threat"),
        ("jag har kvar videosamtalet", "sv", "threat"),
        ("pay or ur 500 followers see everything", "en", "threat"),
        ("what time does your dad go to bed", "en", "isolation"),
        ("ring me when nobody is around", "en", "isolation"),
        ("vilken tid somnar din pappa", "sv", "isolation"),
        ("dont tell him what we talk about", "en", "secrecy"),
        ("got u a little present", "en", "gift_or_money_offer"),
        ("vet din pappa att du är vaken nu", "sv", "personal_info_request"),
        ("does your mum know ur still up this late", "en", "personal_info_request"),
        ("my dad would never let me", "en", "implied_age"),
        ("vi får inte ha mobilen efter nio", "sv", "implied_age"),
        # Secrecy naming anyone, and a second account.
        ("dont tell jo n sam about this", "en", "secrecy"),
        ("keep this convo to yourself", "en", "secrecy"),
        ("u got a finsta?", "en", "platform_migration"),
        ("add me on my priv insta", "en", "platform_migration"),
        ("har du nåt annat konto", "sv", "platform_migration"),
        ("lägg till min privata snap", "sv", "platform_migration"),
        # Scots and northern English, and hiding the contact from the household.
        ("dinnae tell yer maw", "en", "secrecy"),
        ("where do ye stay?", "en", "personal_info_request"),
        ("viska så ingen hör", "sv", "secrecy"),
        ("ta bort det från din mobil efteråt", "sv", "secrecy"),
        ("once ur mam has gone to bed", "en", "isolation"),
        ("does he go through ur texts", "en", "personal_info_request"),
        ("i bought u the skin and u wont even answer", "en", "gift_or_money_offer"),
        ("jag swishade 300 och du kan inte ens svara", "sv", "gift_or_money_offer"),
        ("så fort din mamma somnat", "sv", "secrecy"),
        # Pictures made for the asker, and a view of more of the child.
        ("record yourself singing it for me", "en", "image_request"),
        ("do one in front of ur mirror", "en", "image_request"),
        ("send one so i can see a bit more", "en", "image_request"),
        ("vc me from the shower", "en", "image_request"),
        ("fota en i badrummet", "sv", "image_request"),
        ("skicka en bild så jag ser lite mer", "sv", "image_request"),
        ("videoringa mig från duschen", "sv", "image_request"),
        # Hiding from the household, routines, a picture asked for before, access bought with time.
        ("sätt på lurar så ingen hemma hör oss", "sv", "secrecy"),
        ("pappa behöver inte veta var du är", "sv", "secrecy"),
        ("wear earbuds so nobody at home hears", "en", "secrecy"),
        ("ur dad doesnt need to know where u are", "en", "secrecy"),
        ("vilken tid somnar du på vardagar", "sv", "personal_info_request"),
        ("what time do u finish school tmr", "en", "personal_info_request"),
        ("skicka bilden jag ville ha", "sv", "image_request"),
        ("send me those photos i told u about", "en", "image_request"),
        ("jag har lagt så mycket pengar på dig", "sv", "gift_or_money_offer"),
        ("i've spent so much time on u", "en", "gift_or_money_offer"),
        ("jag kan ta bussen till din stad", "sv", "meeting_request"),
        ("i could drive up to your town", "en", "meeting_request"),
        ("du mår bättre när dina föräldrar inte är hemma", "sv", "isolation"),
        ("they all dont get u, but i do", "en", "isolation"),
        # Turning a child from the group and the household, a second account, a cover for a gift.
        ("ur mates never appreciate u", "en", "isolation"),
        ("ill message u once ur mum switches the wifi off", "en", "isolation"),
        ("what time does he usually fall asleep", "en", "isolation"),
        ("dont tell the squad", "en", "secrecy"),
        ("ur nan wont notice if u left for an hour", "en", "secrecy"),
        ("if u talk to ur teacher about us they wont get it", "en", "secrecy"),
        ("keep this on the low ok", "en", "secrecy"),
        ("tell ur mum u found it", "en", "secrecy"),
        ("set up a secret insta for us", "en", "platform_migration"),
        ("wats ur postcode", "en", "personal_info_request"),
        ("where's ur dad right now?", "en", "personal_info_request"),
        ("berätta inget för gänget", "sv", "secrecy"),
        ("håll våra chattar mellan oss", "sv", "secrecy"),
        ("skapa ett hemligt konto", "sv", "platform_migration"),
        ("berätta inget för pappa om oss", "sv", "secrecy"),
        ("dom vet inte att vi snackar", "sv", "secrecy"),
        ("dont message ur sister about us", "en", "secrecy"),
        ("ur dad doesnt know we talk", "en", "secrecy"),
        ("privat träning med dig på fredagar", "sv", "isolation"),
        ("private coaching with u after practice", "en", "isolation"),
        ("jag vill ta med dig till stugan", "sv", "meeting_request"),
        ("i wanna take u away for a weekend", "en", "meeting_request"),
    ],
)
def test_a_phrasing_the_corpus_showed_missing_is_read(text, language, family):
    assert families(text, language).get(family, 0.0) >= 0.5, families(text, language)


@pytest.mark.parametrize(
    ("text", "language", "family"),
    [
        ("swishar 50 till, säg till om det inte räcker", "sv", "image_request"),  # money, not pictures
        ("skicka en bild när de sover", "sv", "isolation"),  # a babysitting parent: the children sleep
        ("send me the same link again", "en", "image_request"),
        ("my mum earns 300 a week", "en", "gift_or_money_offer"),
        ("jag skickar en till mamma", "sv", "image_request"),  # one to mum, not one more
        ("skicka en till mig också", "sv", "image_request"),
        ("tell your mum, it's important", "en", "secrecy"),  # advice, not a cover story
        ("hide the cake so she doesnt see, its her birthday", "en", "personal_info_request"),
        ("the secret's out lol everyone knows", "en", "secrecy"),
        ("det är en hemlis till mamma på hennes födelsedag", "sv", "secrecy"),  # a surprise for mum
        ("mormor köper en tröja till dig", "sv", "gift_or_money_offer"),  # not the speaker's offer
        ("vi ses i skolan, inte här", "sv", "platform_migration"),
        ("jag svarar i chatten sen", "sv", "platform_migration"),
        ("va kul att du kom", "sv", "sexual_talk"),
        ("what are you wearing to the wedding", "en", "sexual_talk"),
        ("im not allowed to drink on these meds", "en", "implied_age"),  # an adult's rule
        ("jag har bilderna från bröllopet klara", "sv", "threat"),  # a photographer
        ("what time does the shop close", "en", "isolation"),
        ("dont tell him i said that lol", "en", "secrecy"),  # gossip, not a secret kept with a child
        ("dont tell mum about the party", "en", "secrecy"),  # a surprise, not the chat
        ("do u have a minute?", "en", "deadline"),  # a moment, not a deadline
        ("do you have a second account for the game?", "en", "deadline"),
        ("prata tyst så ingen vaknar, bebisen sover", "sv", "secrecy"),  # a parent, a sleeping baby
        ("where do you stay when you visit london", "en", "personal_info_request"),
        ("i paid for the pizza and u didnt even say thanks", "en", "distress"),
        ("i paid. please delete them", "en", "protective"),  # a plea to the extorter, not advice
        ("take a pic in front of the mirror with your new dress for grandma", "en", "image_request"),
        ("show me your room when its clean lol", "en", "image_request"),
        ("fota en framför spegeln i nya klänningen till mormor", "sv", "image_request"),
        ("filma dig när du gör tricket och skicka till tränaren", "sv", "image_request"),
        ("when do you usually go to the gym", "en", "personal_info_request"),
        ("i could drive to the shop", "en", "meeting_request"),
        ("what time does he leave for work", "en", "isolation"),
        ("they dont appreciate u enough at that job", "en", "isolation"),
        ("dont tell mum tho its a surprise", "en", "secrecy"),
        ("she wont notice the scratch", "en", "secrecy"),
        ("whats ur mom doing for the party", "en", "personal_info_request"),
        ("if you tell your teacher they'll help you", "en", "secrecy"),  # advice to tell
        ("she doesnt know we are out of milk", "en", "secrecy"),
        ("private lessons with you and your class", "en", "isolation"),
        ("enskilda samtal med dig och dina föräldrar", "sv", "isolation"),
    ],
)
def test_a_near_miss_in_the_same_words_is_not_read(text, language, family):
    assert families(text, language).get(family, 0.0) < 0.5, families(text, language)


def test_a_price_per_picture_is_solicitation_of_a_likely_minor_alone():
    priced = {"gift_or_money_offer": (0.95, 1)}
    assert severe_pattern(priced, 0.8) == "solicitation"
    assert severe_pattern(priced, 0.5) is None  # the target's age decides
    assert severe_pattern({"gift_or_money_offer": (0.9, 1)}, 0.8) is None  # an offer that names no picture


HARMFUL = {
    "priced_sv": ({"b": 14}, [
        ("a", "hej, 250 kr per bild. swish direkt"),
        ("b", "va nej"),
    ]),
    "more_images_sv": ({"b": 14}, [
        ("a", "jag har kvar den du skickade i somras"),
        ("b", "radera den"),
        ("a", "om du inte skickar två till så får hela 8c se den"),
    ]),
    "pics_for_robux_en": ({"b": 11}, [
        ("a", "ur builds r sick"),
        ("b", "ty!!"),
        ("a", "if u send me a selfie ill give u 800 robux"),
    ]),
    "bild_mot_swish_sv": ({"b": 13}, [
        ("a", "hej snygging"),
        ("a", "skicka två bilder så swishar jag 300"),
    ]),
    "progressive_en": ({"b": 15}, [
        ("a", "got ur vid saved"),
        ("a", "im sending it to ur whole family unless u get me 200 in amazon cards"),
        ("b", "please im 15"),
    ]),
}

HARD_NEGATIVES = {
    "babysitter_dad_sv": ({"a": 41, "b": 15}, [
        ("a", "Hej Alva, kan du vara barnvakt på lördag 17-22? 130 kr i timmen"),
        ("b", "ja gärna"),
        ("a", "Vi hämtar dig 16.45 och kör hem dig efteråt. Säg till din mamma att du är hemma 22.30"),
        ("a", "Skicka en bild när de sover så vet vi att allt är lugnt"),
    ]),
    "coach_ride_en": ({"a": 38, "b": 14}, [
        ("a", "tournament saturday, bus leaves 8am from the school gym"),
        ("b", "my dad cant drive me to the school"),
        ("a", "no worries, i can pick you up, your dad said it's fine. i'll text him the time"),
    ]),
    "gran_jacket_en": ({"a": 71, "b": 12}, [
        ("a", "did the parcel come love"),
        ("b", "yes!! the jacket fits"),
        ("a", "send me a pic in your new jacket and ill send you 20 for the cinema"),
    ]),
    "mormor_troja_sv": ({"a": 74, "b": 12}, [
        ("a", "Kom paketet fram?"),
        ("a", "Skicka en bild i nya tröjan så swishar jag 200 till bion"),
    ]),
    "friend_retells_sv": ({"a": 13, "b": 13}, [
        ("a", 'nu skrev han "skicka en bild så swishar jag 200"'),
        ("b", "nej usch, ta skärmdump och blockera"),
    ]),
    "mum_more_money_sv": ({"a": 45, "b": 13}, [
        ("a", "Swishade 200 till bion"),
        ("b", "det kostar 230 med popcorn"),
        ("a", "Swishar 30 till. Skicka en bild på biljetten så jag vet att ni kom in"),
    ]),
}


@pytest.mark.parametrize("name", sorted(HARMFUL))
def test_a_severe_chat_in_new_words_is_reported(name):
    ages, lines = HARMFUL[name]
    engine, decisions = run_chat(name, ages, lines)
    assert engine.summary(name)["offender_id"] == f"{name}:a"
    assert any("report" in d.actions for d in decisions), [d.actions for d in decisions]


@pytest.mark.parametrize("name", sorted(HARD_NEGATIVES))
def test_a_hard_negative_in_the_same_words_stays_quiet(name):
    ages, lines = HARD_NEGATIVES[name]
    engine, decisions = run_chat(name, ages, lines)
    assert not engine.summary(name)["flagged"]
    assert not any(SEVERE & set(d.actions) for d in decisions)


@pytest.mark.parametrize(
    ("alibi", "advice", "language"),
    [
        ("sag deiner Mutter, dass du bei Lena übernachtest", "sag es deiner Mutter", "de"),
        ("zeg tegen je moeder dat je bij Lotte slaapt", "vertel het je moeder", "nl"),
    ],
)
def test_an_alibi_for_the_parents_is_not_advice_to_tell_them(alibi, advice, language):
    # "Tell your mother" is protective advice; "tell your mother you sleep at Lena's" is the
    # offender's alibi, and read as advice it would lower the offender's risk.
    assert "protective" not in families(alibi, language)
    assert families(alibi, language).get("secrecy", 0.0) >= 0.5
    assert families(advice, language).get("protective", 0.0) >= 0.5


@pytest.mark.parametrize("text", ["du skriver som en 16åring", "du låter som en 12-åring", "hon pratar som typ en 20 åring"])
def test_an_age_in_a_comparison_is_not_the_speakers_age(text):
    # "You write like a 16-year-old" is flattery from someone older, not the writer saying 16:
    # read as a claim it made the flatterer a likely minor and shrank his evidence.
    assert [s.value for s in detect_signals(normalize(text), "e", "sv") if s.name == "age_disclosure"] == []


def test_an_exposure_threat_with_an_ultimatum_is_sextortion_whatever_it_demands():
    # "Take me back or your mum and the group chat get the pictures; you have until tomorrow":
    # no money and no new images are asked for, the ultimatum is the demand.
    exposure, deadline = ("threat", (0.85, 1)), ("deadline", (0.7, 1))
    assert severe_pattern(dict([exposure, deadline]), 0.8) == "sextortion"
    assert severe_pattern(dict([exposure]), 0.8) is None  # no ultimatum yet
    assert severe_pattern(dict([("threat", (0.65, 1)), deadline]), 0.8) is None  # "i'll tell your parents" + a time
    assert severe_pattern(dict([exposure, deadline]), 0.2) is None  # a known adult
