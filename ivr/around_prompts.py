"""What callers hear around a support contact: the reminder call, the ouvidoria and the
satisfaction survey (Brazilian Portuguese). Kept together so the wording has one home."""

# The support line, as the reminder left on an answering machine says it.
LINE_NUMBER = "4003-0015"

# Reminder calls (docs/rules.md#reminder-calls).
REMINDER_GREETING = (
    "Olá, aqui é o atendimento TOTVS, com um lembrete para {name}: um chamado tem uma solução "
    "aguardando o seu aceite, e o prazo está perto do fim."
)
REMINDER_MACHINE = (
    "Olá, aqui é o atendimento TOTVS. O chamado {number} tem uma solução aguardando o seu "
    "aceite, e o prazo está perto do fim. Para ouvir a solução e responder, ligue para "
    "{line} e digite o número do chamado. Até logo."
)
REMINDER_GONE = "Olá, aqui é o atendimento TOTVS. Este lembrete não é mais necessário. Até logo."

# Ouvidoria (docs/rules.md#ouvidoria).
OUVIDORIA_ASK_TICKET = (
    "Ouvidoria. Para falar com a ouvidoria, é preciso já ter aberto um chamado com a área "
    "responsável. Digite os oito dígitos do número desse chamado."
)
OUVIDORIA_NO_TICKET = (
    "Não encontramos esse chamado da sua empresa. A ouvidoria atende quem já acionou a área "
    "responsável e informa o número do chamado."
)
OUVIDORIA_ELSEWHERE = (
    "Se você ainda não abriu um chamado, abra um pelo portal {portal} ou fale com o suporte "
    "técnico pelo menu principal."
)
OUVIDORIA_TRANSFER = "Vamos transferir você para a ouvidoria. Aguarde, por favor."
OUVIDORIA_LEAVE_MESSAGE = (
    "Deixe sua mensagem para a ouvidoria após o sinal: diga o seu nome, o motivo do contato e "
    "um telefone para retorno. Ao terminar, tecle jogo da velha."
)
OUVIDORIA_CLOSED = "A ouvidoria atende {hours}."
OUVIDORIA_UNANSWERED = "No momento a ouvidoria não pode atender."
OUVIDORIA_THANKS = "Sua mensagem foi registrada pela ouvidoria. Obrigado e até logo."
OUVIDORIA_NOTHING = "Não recebemos nenhuma mensagem. Até logo."

# Satisfaction survey (docs/rules.md#satisfaction-survey): defaults of a survey node.
SURVEY_QUESTION = (
    "Antes de desligar, responda à nossa pesquisa de satisfação. De 1 a 5, qual a sua nota "
    "para o atendimento? Digite a nota agora."
)
SURVEY_OUT_OF_RANGE = "Digite uma nota de {lowest} a {highest}."
SURVEY_COMMENT = (
    "Obrigado. Se quiser deixar um comentário, fale após o sinal e tecle jogo da velha. "
    "Para encerrar, basta desligar."
)
SURVEY_THANKS = "Obrigado pela sua avaliação. Até logo."
SURVEY_SKIPPED = "Obrigado. Até logo."
