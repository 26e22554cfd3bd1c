"""Five people, as in issue 23, written anew: what each one types, in the order they type it.

A step is a text (typed), a command ("/start"), or ("press", prefix): press the first button whose
payload starts with the prefix in the bot's last replies (skipped when there is none). `danger` marks
the turn that first says someone is in danger. `tg_language` is what the Telegram app says.
"""

FATHER = {  # a father in Hunza, Roman Urdu, his son's Italy work visa
    "name": "father", "language": "ur-Latn", "tg_language": None, "danger": None,
    "steps": [
        "Assalam o alaikum",
        "mere bete ko Italy ka work visa mil raha hai, agent 18 lakh mang raha hai aur aadha abhi cash mein",
        "nahi koi contract nahi diya",
        "haan 9 lakh cash abhi mang raha hai",
        "pata nahi",
        "kya is service ke paise lagte hain?",
        "nahi",
        "haan",
        "nahi",
        "pata nahi",
        "nahi",
        "haan",
        "agent ka licence kaise check karun",
        "agent ka licence kaise check karun",
        "shukriya",
    ],
}

STUDENT = {  # a student, Urdu script, admission plus a job in Cyprus
    "name": "student", "language": "ur", "tg_language": "ur", "danger": None,
    "steps": [
        "/start",
        "مجھے قبرص کی ایک یونیورسٹی میں داخلہ اور ساتھ نوکری کی پیشکش ملی ہے، کنسلٹنٹ 12 لاکھ مانگ رہا ہے",
        "مجھے ڈر لگ رہا ہے، یہ میرے والدین کی ساری بچت ہے",
        "ہاں",
        "نہیں",
        "پتہ نہیں",
        "کیا یونیورسٹی سے خود تصدیق کر سکتی ہوں؟",
        "نہیں",
        "ہاں",
        "نہیں",
        "نہیں",
        "ہاں",
        "شکریہ",
    ],
}

HELD = {  # a young man held in a house in Libya, English with typos
    "name": "held", "language": "en", "tg_language": None, "danger": 1,
    "steps": [
        "hi",
        "i am in libya, the agent took my pasport and they lock us in a house in tripoli, they beat us",
        "how long?? pls fast they come back at nite",
        "we r 6 pakistani boys here, near zuwara",
        "shud i try to run away at nite?",
        "ok",
        "what is the embassy number in libya",
        "they check my phone sometimes, how do i hide this chat",
        "pls help fast",
        "ok",
    ],
}

REPORTER = {  # someone reporting a fake agent in Gilgit, English
    "name": "reporter", "language": "en", "tg_language": None, "danger": None,
    "steps": [
        "I want to report a fake agent in Gilgit",
        "He took 3 lakh each from five boys for Dubai work visas and then switched off his phone",
        "wait, will the agent know it was me?",
        "Karim Overseas, a man called Karim",
        "Gilgit, an office near the bus stand",
        "will my name be given to the police or the agent?",
        "I paid 3 lakh cash, no receipt",
        ("press", "rf:yes"),
        ("press", "rf:send"),
        "thank you",
    ],
}

CURIOUS = {  # someone trying the menus, Roman Urdu and English
    "name": "curious", "language": "ur-Latn", "tg_language": None, "danger": None,
    "steps": [
        "/start",
        ("press", "lang:ur-Latn"),
        "are you a real person or a bot?",
        "/help",
        "/menu",
        ("press", "topic:"),
        "warning signs kya hain",
        "warning signs kya hain",
        "mujhe kisi khatoon counsellor se baat karni hai",
        "kya is service ke paise lagte hain?",
        "thanks",
    ],
}

PERSONAS = [FATHER, STUDENT, HELD, REPORTER, CURIOUS]
