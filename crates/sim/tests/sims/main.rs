//! Integration tests of every simulator over real HTTP (reqwest against loopback).

mod chimpy;
mod common;
mod ereceipt;
mod mypos;
mod oauth2;
mod paysera_checkout;
mod paysera_pos;
mod simulator;
