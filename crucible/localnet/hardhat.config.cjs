// Hardhat's node as Crucible's second EVM implementation (crucible/localnet/hardhat.py starts it with this file).
// Same chain id, development mnemonic and balances as anvil, so deployments and fixtures work unchanged.
const env = process.env;

module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      accounts: {
        mnemonic: env.CRUCIBLE_HARDHAT_MNEMONIC || "test test test test test test test test test test test junk",
        count: Number(env.CRUCIBLE_HARDHAT_ACCOUNTS || "10"),
        accountsBalance: env.CRUCIBLE_HARDHAT_BALANCE_WEI || "10000000000000000000000",
      },
      // The contracts are compiled for cancun (foundry.toml, crucible/chain/compiler.py).
      hardfork: "cancun",
    },
  },
  // `hardhat node` compiles nothing; keep its cache out of the source tree anyway.
  paths: { cache: require("os").tmpdir() + "/crucible-hardhat-cache" },
};
