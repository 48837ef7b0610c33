/**
 * `print-defaults`: cfssl's templates, byte for byte (each ends with a blank line: cfssl's template
 * ends in a newline and println adds another). test/interop checks them against the real cfssl.
 */

export const DEFAULT_CONFIG_JSON = `{
    "signing": {
        "default": {
            "expiry": "168h"
        },
        "profiles": {
            "www": {
                "expiry": "8760h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "server auth"
                ]
            },
            "client": {
                "expiry": "8760h",
                "usages": [
                    "signing",
                    "key encipherment",
                    "client auth"
                ]
            }
        }
    }
}

`;

export const DEFAULT_CSR_JSON = `{
    "CN": "example.net",
    "hosts": [
        "example.net",
        "www.example.net"
    ],
    "key": {
        "algo": "ecdsa",
        "size": 256
    },
    "names": [
        {
            "C": "US",
            "ST": "CA",
            "L": "San Francisco"
        }
    ]
}

`;

export const DEFAULTS: Readonly<Record<string, string>> = { config: DEFAULT_CONFIG_JSON, csr: DEFAULT_CSR_JSON };

export const DEFAULTS_LIST = `Default configurations are available for:\n${Object.keys(DEFAULTS).map((k) => `\t${k}\n`).join('')}`;
