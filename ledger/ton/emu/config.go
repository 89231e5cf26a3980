package emu

import (
	"fmt"
	"math/big"

	"github.com/xssnick/tonutils-go/tlb"
	"github.com/xssnick/tonutils-go/tvm"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// The emulated chain's blockchain config. Every price below is the value
// TON mainnet uses (config params 8, 18, 20, 21, 24, 25 and 43 as read from
// tonutils-go v1.18.0's fixture tlb/testdata/blockchain_config_mainnet.boc,
// which is a mainnet config dump; TON testnet uses the same prices). Only
// param 19 (global ID) differs: it is the chain's own ID, -3 by default.
const (
	// Param 8: global version 13 with capabilities 494 (bounce message body,
	// report version, short dequeue, store out-msg queue size, message
	// metadata, deferred messages, create stats).
	globalVersion      = 13
	globalCapabilities = 494
)

var (
	// Param 18: storage prices per second, in 2^-16 nanoTON per bit/cell.
	storagePrices = tlb.ConfigStoragePrices{
		ValidSince: 0, BitPrice: 1, CellPrice: 500, MCBitPrice: 1000, MCCellPrice: 500000,
	}
	// Param 21: basechain gas: 400 nanoTON per gas unit (26214400 / 2^16),
	// first 100 gas flat 40000 nanoTON, limit 1M, credit 10k for externals.
	basechainGas = tlb.ConfigGasLimitsPrices{
		HasFlatPricing: true, FlatGasLimit: 100, FlatGasPrice: 40000,
		HasSeparateSpecialLimit: true, GasPrice: 26214400, GasLimit: 1000000,
		SpecialGasLimit: 1000000, GasCredit: 10000, BlockGasLimit: 10000000,
		FreezeDueLimit: 100000000, DeleteDueLimit: 1000000000,
	}
	// Param 20: masterchain gas: 10000 nanoTON per gas unit.
	masterchainGas = tlb.ConfigGasLimitsPrices{
		HasFlatPricing: true, FlatGasLimit: 100, FlatGasPrice: 1000000,
		HasSeparateSpecialLimit: true, GasPrice: 655360000, GasLimit: 1000000,
		SpecialGasLimit: 70000000, GasCredit: 10000, BlockGasLimit: 2500000,
		FreezeDueLimit: 100000000, DeleteDueLimit: 1000000000,
	}
	// Param 25: basechain forwarding: 0.0004 TON lump, 1/3 kept by the
	// sender's validators (first_frac 21845 / 2^16).
	basechainFwd = tlb.ConfigMsgForwardPrices{
		LumpPrice: 400000, BitPrice: 26214400, CellPrice: 2621440000,
		IHRFactor: 98304, FirstFrac: 21845, NextFrac: 21845,
	}
	// Param 24: masterchain forwarding.
	masterchainFwd = tlb.ConfigMsgForwardPrices{
		LumpPrice: 10000000, BitPrice: 655360000, CellPrice: 65536000000,
		IHRFactor: 98304, FirstFrac: 21845, NextFrac: 21845,
	}
	// Param 43: size limits.
	sizeLimits = tlb.SizeLimitsConfigV2{
		MaxMsgBits: 2097152, MaxMsgCells: 8192, MaxLibraryCells: 1000,
		MaxVMDataDepth: 512, MaxExtMsgSize: 65535, MaxExtMsgDepth: 512,
		MaxAccStateCells: 65536, MaxMCAccStateCells: 2048, MaxAccPublicLibraries: 256,
		DeferOutQueueSizeLimit: 256, MaxMsgExtraCurrencies: 2,
		MaxAccFixedPrefixLength: 8, AccStateCellsForStorageDict: 26,
	}
)

// buildConfig returns the prepared blockchain config of a chain whose
// global ID is globalID.
func buildConfig(globalID int32) (*tvm.PreparedBlockchainConfig, error) {
	storage := cell.NewDict(32)
	sp, err := tlb.ToCell(&storagePrices)
	if err != nil {
		return nil, fmt.Errorf("emu: config: storage prices: %w", err)
	}
	if err := storage.SetIntKey(big.NewInt(0), sp); err != nil {
		return nil, fmt.Errorf("emu: config: storage prices dict: %w", err)
	}
	params := map[uint32]any{
		tlb.ConfigParamGlobalVersion:               &tlb.GlobalVersion{Version: globalVersion, Capabilities: globalCapabilities},
		tlb.ConfigParamGlobalID:                    nil, // built below: 32-bit signed
		tlb.ConfigParamGasPricesMasterchain:        masterchainGas,
		tlb.ConfigParamGasPricesBasechain:          basechainGas,
		tlb.ConfigParamMsgForwardPricesMasterchain: &masterchainFwd,
		tlb.ConfigParamMsgForwardPricesBasechain:   &basechainFwd,
		tlb.ConfigParamSizeLimits:                  &sizeLimits,
	}
	root := cell.NewDict(32)
	for id, v := range params {
		var c *cell.Cell
		switch p := v.(type) {
		case nil:
			c = cell.BeginCell().MustStoreInt(int64(globalID), 32).EndCell()
		case tlb.ConfigGasLimitsPrices:
			c, err = p.ToCell()
		default:
			c, err = tlb.ToCell(p)
		}
		if err != nil {
			return nil, fmt.Errorf("emu: config: param %d: %w", id, err)
		}
		if err := root.SetIntKey(big.NewInt(int64(id)), cell.BeginCell().MustStoreRef(c).EndCell()); err != nil {
			return nil, fmt.Errorf("emu: config: set param %d: %w", id, err)
		}
	}
	if err := root.SetIntKey(big.NewInt(int64(tlb.ConfigParamStoragePrices)), cell.BeginCell().MustStoreRef(storage.AsCell()).EndCell()); err != nil {
		return nil, fmt.Errorf("emu: config: set storage prices: %w", err)
	}
	cfg, err := tvm.PrepareBlockchainConfig(root.AsCell())
	if err != nil {
		return nil, fmt.Errorf("emu: config: prepare: %w", err)
	}
	return cfg, nil
}
