"""What callers hear during the phone login (Brazilian Portuguese)."""

ASK_CPF = "Para sua segurança, digite o seu CPF, somente os números, e tecle jogo da velha."
ASK_CPF_AGAIN = "Digite o seu CPF e tecle jogo da velha."
# When the line takes speech (settings.speech in menus.yaml).
ASK_CPF_SPOKEN = (
    "Para sua segurança, digite o seu CPF, somente os números, e tecle jogo da velha, "
    "ou diga os números um a um."
)
ASK_CPF_AGAIN_SPOKEN = "Digite o seu CPF e tecle jogo da velha, ou diga os números um a um."
NOT_UNDERSTOOD = "Não entendemos os números."
ASK_PASSWORD = "Agora digite a sua senha do atendimento telefônico e tecle jogo da velha."  # noqa: S105 - a prompt
INVALID_CPF = "Este CPF não é válido."
FAILED = "CPF ou senha não conferem."
SILENCE = "Não recebemos nenhum número."
WELCOME = "Obrigado, {name}."
THANKS = "Obrigado."  # welcome to a contact whose name has no first word
LET_GO = (
    "Como não recebemos os dados, vamos encerrar a ligação. "
    "Ligue novamente quando quiser. Até logo."
)
TOO_MANY = (
    "Não foi possível confirmar os seus dados. "
    "Para criar uma nova senha, acesse o portal {portal} e use a opção Esqueci minha senha. "
    "Se precisar de ajuda com o seu cadastro, ligue para 4003-0015 e tecle 7. Até logo."
)
