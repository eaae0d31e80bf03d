/**
 * A TEST-ONLY certificate and key for loopback stand-ins (127.0.0.1 and localhost), self-signed, valid
 * until 2126. Azure's SDKs refuse to send a bearer token over plain http, so the ARM stand-in speaks
 * HTTPS with this pair; clients trust it through `AzureClientOptions.ca` in-process, and through
 * `NODE_EXTRA_CA_CERTS` (a file holding `cert`) in other processes. The key is public by design: never
 * use it for anything but a test server on loopback.
 */
export const loopbackTls = {
  cert: `
-----BEGIN CERTIFICATE-----
MIIDJzCCAg+gAwIBAgIUNd2Qo0Y/fkdkdNTkQHTpNFNvHBswDQYJKoZIhvcNAQEL
BQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTIzMzc1NVoYDzIxMjYx
MTA3MjMzNzU1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQCgEw0hWrpSp5SmEsb2MOqnWUI7D2cXV+TyAMZSjJtR
50KOw0F1jWytRE8Tu0HGpg+a10a9tDFBrVr86nki3R/LdP46HSrggaN8+NUZdzTQ
C7xFyFp0lPXH37GB6uodggMD0vkT96+svcfq2Mm4AZOnHhPKlmgPHvmlv/9fgApM
37eaY5Lq3iX3aFqeENo18+AMSbOddvb5HAVXVU2FLePL0vmMx5UYN99e4AsmHGPT
EpsyBQ6K7IhCWULes9Fz/S7+S7No5W4IGYolCJzOIeczLfF+Nz6MN6vizGP985CB
Bcxmjb+YHm+lmPyOsUbX32/tUK4y5ur2ooDJCFpLWZHxAgMBAAGjbzBtMB0GA1Ud
DgQWBBTz3hAW7+gZ4/XIGB3kGG5VDneu9TAfBgNVHSMEGDAWgBTz3hAW7+gZ4/XI
GB3kGG5VDneu9TAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwDwYDVR0TAQH/
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAhLaSSF6xcFPQcDnbAWvfHjJ47PrI
QmSmTnJ73iZ579Nv2C3AsBExVfn0IE53GFaA1aTVrGZwX2Z78P2O0YxmkWxM2IEC
PYA+/YV5+oNgrw870NvtzLsiP2FxRwWnOsnTRWs1II22bn5234FEjQ1CZF0imVZF
j99gbc4WEWzQ3CW5CGfdR844Gv4wQ/yy0t1TytzkinMEYkHyIVo37gJ6/DGvbnDc
3KM+s5DentzTfo+6AvRYT+XeXNmiU3euHp96YNa+pi901N40h/1N4aMyYUTISSrg
zqF2nTaZziuAVFs+kRaaeYzSRr+rPweTZy5ysd//dCHzHM4s/RmpMaZtxQ==
-----END CERTIFICATE-----
`.trimStart(),
  key: `
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCgEw0hWrpSp5Sm
Esb2MOqnWUI7D2cXV+TyAMZSjJtR50KOw0F1jWytRE8Tu0HGpg+a10a9tDFBrVr8
6nki3R/LdP46HSrggaN8+NUZdzTQC7xFyFp0lPXH37GB6uodggMD0vkT96+svcfq
2Mm4AZOnHhPKlmgPHvmlv/9fgApM37eaY5Lq3iX3aFqeENo18+AMSbOddvb5HAVX
VU2FLePL0vmMx5UYN99e4AsmHGPTEpsyBQ6K7IhCWULes9Fz/S7+S7No5W4IGYol
CJzOIeczLfF+Nz6MN6vizGP985CBBcxmjb+YHm+lmPyOsUbX32/tUK4y5ur2ooDJ
CFpLWZHxAgMBAAECggEACYPIYoSpkZMrd0mjcOvMbuET2j3ao10Smz3ni+2Wp+Im
pyS9Bdc/r/bg+mvFh6DESbBlII6O5PgAcgsf4y4gny/Xkq28KDcceCe0Rvy6c2lX
KhC0K7zU9Sn7O50yiEl7k2UdcA3nb82iDfgP2XOiiqrzgzW4frmZHjyQ2eTa9+G2
Tmq3C0Zk2QCb0gBmiYaeYNE6zk/dmMfPOyEVSGJAKCnf7AFbCXqvq0BIOEJOeWFu
sVZb9RR4DjkqN5Juq7J286DvTn0lZn51TvPDS2B5S5Gjc/lBZHxNoc4SkpqiYVPF
vceL+/xi27umVYbwRKrT6qqSDD9EdLWms3/p5fTvSQKBgQDO5Klbw9/e3otZIqV3
fBoaHsHxqhompK6O+gL6vwIppkhqR2PJ2c/StDGtXZl7QisQej2/gat8muppcpp3
kTqpkv5tC9+5pOjlKcmmirnwiu9N6kaCkbah6yvHK1zEll+0ga1C7aluU8yNrCra
kQil/XzvuFTUIeJ5HU+zkwcJVQKBgQDGEZC3wsd2ORFDKKrdlqYoq/ATNO/Lp3/1
/Z4AiBlbSj32BvkyyqGsZUmPAKG/SJbWNXVn+s0cseZ9ohNa3O9c9tvq4/mWUBNh
bi4W4e4tynRk2AJjV/DIX/B/3Nwx0CemTI8lIPxkYT3SuuFB0RFvgsVWhtbIZkXm
q8eK9pE2LQKBgAkcXLDj0Un5Nt23/t1iI6weyp+fxAMLoXw+Wj88hhXbcrjrZ+ON
qe83bDCcPJQG9+qD15BFX43fLI90MoUtag3poTagHTwJnQ/qZSzmUwXauGsP9Abv
78D1oDnnGPC3RoOmakDWQm3PVuSuPjzdwim9HfFYhrPIwjZfKhFYWij5AoGAS94I
j8rE+izLxuy53hzJUoThdYnuXBSxt/jIX63CAKzEZQuwwlrJaK53aZY1Xn6ggDaD
3Ss9C8O85NyDC2fbK8HG5Qcj4AaWFdjNQKiTwehtgv8WkxTpPuc4yNFBarcvqMxk
fDVRV+XDd4drpvk883ikvAr0FFjQZ5Xe3gSqBJUCgYEAk4+kcXGwcE1PIJLd7qr3
jVfkNqLODCjQZS5IuuMa0aTOsfNkp8+QY6ljtcUop5dgWrNc1fyuugrLLL+t/KPc
6UC0fHPsZdVL2N1+4GiRbOyYZM9O0V3Bd808Rjo8tLXUvuJrxaLGdrCeZK161ONF
ASBGZISSyTjSdwJH+leYCLo=
-----END PRIVATE KEY-----
`.trimStart(),
} as const;
export const { cert, key } = loopbackTls;
