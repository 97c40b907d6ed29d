"""Everyday English of a phone call to a service desk: what the sandbox's ears expect besides the rules.

The recogniser knows only the words of its language model, and out-of-vocabulary speech comes out as the
nearest words it knows; this text gives it the words and word orders people use on such a call (greetings,
checking the line, asking, thanking, repairing, leaving) about the usual topics (orders and deliveries,
opening times, appointments, bills, accounts, returns, prices, a real person), so what people say around a
rule's key words, and what no rule is about, is heard as itself. Written for the purpose (no corpus was
copied); one sentence a line, lower case, no punctuation but apostrophes.
"""

from __future__ import annotations

TEXT = """
hello
hi
hey
hi there
hello there
hey there
good morning
good afternoon
good evening
morning
hello is this the shop
hi is this customer service
hello can you hear me
can you hear me
can you hear me now
can you hear me okay
hello are you there
are you still there
is anybody there
is anyone there
is somebody there
hello anybody
i can hear you
i can't hear you very well
you are breaking up
the line is bad
how are you
how are you today
i am fine thank you
i'm good thanks
nice to talk to you
yes
yes please
yes that's right
yes that is correct
yeah
yeah sure
yep
no
no thanks
no thank you
no not really
nope
okay
okay then
okay great
alright
all right
sure
right
great
good
fine
perfect
of course
i see
i understand
got it
that's right
that's correct
that's wrong
that is not right
exactly
maybe
i think so
i don't think so
i don't know
i'm not sure
let me think
let me check
just a second
one moment please
wait a moment
hold on
hang on a minute
never mind
forget it
thank you
thanks
thanks a lot
thank you very much
thanks very much
thanks so much
thank you so much
many thanks
cheers
great thank you
okay thank you
thank you for your help
thanks for helping me
thanks for the information
that's very helpful
that was helpful
that's great thanks
you have been very helpful
goodbye
bye
bye bye
bye for now
see you
see you later
talk to you later
have a nice day
have a good day
you too
that's all
that is all
that's everything
that is all for now
that's all i needed
nothing else
nothing else thanks
no that's it
i am done
i think that's it
i have to go now
sorry
sorry what
sorry i didn't catch that
pardon
pardon me
excuse me
what did you say
could you say that again
can you repeat that
please repeat that
say that again please
could you speak more slowly
i didn't understand
i don't understand
what do you mean
i said something else
that is not what i said
i have a question
i have a quick question
can i ask you something
can you help me
could you help me please
i need some help
i need help with something
what can you do
what can i ask you
who am i talking to
are you a robot
are you a real person
can i talk to a real person
can i speak to somebody
i would like to speak to a manager
put me through to someone please
could you tell me something
can you tell me more
tell me more about it
i would like to know more
i want to know something
i was wondering if you could help me
i'm calling about something i bought
i am calling because i have a problem
i have a problem with my order
i would like to check something
can you check that for me
could you look that up for me
can you look it up please
please check it for me
what is the status
what's the status of it
where is my order
where is it now
when will it arrive
when will it be delivered
has it been sent yet
has it shipped
it hasn't arrived yet
it did not come
i am still waiting for it
it was supposed to come yesterday
what happened to it
how long does delivery take
how long will it take
can you track it
i have a tracking number
my order number is
the number is
it's a parcel
a small package
i ordered something last week
i want to cancel my order
can i change my order
i would like to return something
how do i return it
i would like a refund
it arrived broken
it doesn't work
it's the wrong size
what time do you open
what time do you close
when do you close today
when are you closed
are you open now
are you open at the weekend
are you open on sundays
what are your opening times
how early do you open
is the shop open today
are you open on public holidays
monday to friday
the weekend
today
tomorrow
yesterday
this morning
this afternoon
tonight
this week
next week
last week
monday
tuesday
wednesday
thursday
friday
saturday
sunday
in the morning
in the afternoon
in the evening
at night
what time is it now
i would like to make an appointment
can i book an appointment for tomorrow
can i change my appointment
how much does it cost
what is the price
is it expensive
do you have it in stock
do you sell them here
can i pay by card
can i pay later
i want to pay my bill
there is a mistake on my bill
i was charged twice
i forgot my password
i can't log in to my account
can you change my address
what is your address
where are you
where is the shop
how do i get there
what is your phone number
can you send me an email
my email address is
my name is
i live in town
i bought it online
i bought it in the shop
what is the weather like today
it's raining
it's a nice day
do you know what time it is
just asking
that's a pity
oh no
oh really
oh okay
wow
cool
lovely
brilliant
awesome
good to know
i'll call back later
i will try again tomorrow
"""

SENTENCES: tuple[str, ...] = tuple(line for line in TEXT.splitlines() if line.strip())
